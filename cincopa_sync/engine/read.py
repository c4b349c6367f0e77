"""The live account, read through the list endpoints, one kind at a time in parallel.

What each kind reads, and how an item becomes a live object, is the kind's business
(`Kind.read`); this module runs the reads and gathers them into a `LiveState`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from cincopa_sync.api.client import CincopaClient
from cincopa_sync.api.paging import DEFAULT_PAGE_SIZE, Reader
from cincopa_sync.kinds import get, kinds
from cincopa_sync.manifest.model import DesiredState

T = TypeVar("T")
U = TypeVar("U")


@dataclass
class LiveState:
    """What the account holds, canonical: one live record per kind (see each kind)."""

    kinds: dict[str, Any] = field(default_factory=dict)

    def of(self, name: str) -> Any:
        found = self.kinds.get(name)
        return found if found is not None else get(name).live_from_json({})


@contextmanager
def reader_for(
    client: CincopaClient, parallelism: int = 8, page_size: int = DEFAULT_PAGE_SIZE
) -> Iterator[Reader]:
    with ThreadPoolExecutor(max_workers=max(1, parallelism)) as pool:
        yield Reader(client, pool, page_size, ahead=2 * max(1, parallelism))


class Inline:
    """A pool that runs each task in the calling thread: for reads made from inside a
    worker of another pool, which must not wait on that pool's own workers."""

    def map(self, function: Callable[[T], U], items: Iterable[T]) -> Iterator[U]:
        return map(function, items)


def inline_reader(client: CincopaClient) -> Reader:
    return Reader(client, Inline())  # type: ignore[arg-type]


def read_live(
    client: CincopaClient,
    desired: DesiredState,
    *,
    parallelism: int = 8,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> LiveState:
    """Read what the desired state needs, with as few round trips as the data allows.
    The kinds are read at once; their own fan-out shares one pool of `parallelism`."""
    wanted = [k for k in kinds() if k.needs_read(desired.of(k.name), desired.prunes(k.name))]
    with (
        reader_for(client, parallelism, page_size) as reader,
        ThreadPoolExecutor(max_workers=max(1, len(wanted))) as per_kind,
    ):
        futures = {
            k.name: per_kind.submit(k.read, reader, desired.of(k.name), desired.prunes(k.name))
            for k in wanted
        }
        return LiveState({name: future.result() for name, future in futures.items()})
