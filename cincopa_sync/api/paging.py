"""Reading listings: pages that must add up, and the one loop that reads again until a
listing holds still.

A listing of several pages is not a snapshot: objects added or removed while its pages
are read shift the items between pages. Every paged read is checked (`PageTally`: the
same items_count on every page, no object on two pages, pages that add up to the count)
and read again when it did not hold still, READ_ATTEMPTS times at most; then
UnstableRead (exit 1), and nothing is planned, pruned or exported from it.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice
from operator import methodcaller
from typing import Any, TypeVar

from cincopa_sync.api import endpoints as ep
from cincopa_sync.api.client import CincopaClient
from cincopa_sync.api.endpoints import Call, ListShape, PageInfo
from cincopa_sync.errors import ApiError, UnstableRead

log = logging.getLogger("cincopa_sync.api")

# Asked for on page 1 of every listing: large, because the server honours what it can
# (it says how many in items_data) and every page saved is a round trip saved. The
# largest size it honours is not documented: a listing of many pages probes upward
# (Reader.widest), by PROBE_FACTOR, up to MAX_PAGE_SIZE. Past 10,000 items a page, the
# cost of a call is a small part of its page's own (decoding, sifting), while the pages in
# flight hold more memory and one answer takes longer to make, nearer the read timeout.
DEFAULT_PAGE_SIZE = 1000
MAX_PAGE_SIZE = 10_000
PROBE_FACTOR = 10
READ_ATTEMPTS = 3

Item = Mapping[str, Any]
T = TypeVar("T")
U = TypeVar("U")


class PageTally:
    """Checks that pages read one at a time add up to one listing that held still.

    A listing that changed between two page reads shows as a different `items_count` on
    a later page, as an object on two pages (items shifted right), or as pages that hold
    fewer or more objects than `items_count` says (items shifted left, or a new one).
    """

    def __init__(self, endpoint: str, first: PageInfo, shape: ListShape) -> None:
        self.endpoint = endpoint
        self.expected = first.items_count
        self.shape = shape
        self.seen: set[str] = set()
        self.total = 0
        self.problems: list[str] = []

    def add(self, items: list[Item], info: PageInfo) -> None:
        if info.items_count != self.expected and not self.problems:
            self.problems.append(
                f"items_count went from {self.expected} to {info.items_count} "
                f"between page 1 and page {info.page}"
            )
        # Set operations in C: a listed asset costs a lookup of its identity and an insert.
        keys = set(map(str, map(methodcaller("get", self.shape.identity, ""), items)))
        if len(keys) < len(items) or not self.seen.isdisjoint(keys):
            self._name_repeats(items)
        self.seen |= keys
        self.total += len(items)

    def _name_repeats(self, items: list[Item]) -> None:
        identity, seen, page = self.shape.identity, self.seen, set()
        for item in items:
            key = str(item.get(identity, ""))
            if (key in seen or key in page) and len(self.problems) < 3:
                # the identity may be a secret (a Slack URL): then it is never named
                shown = "an item" if self.shape.secret_identity else f"{identity} {key}"
                self.problems.append(f"{shown} came back on two pages")
            page.add(key)

    def problem(self) -> str | None:
        if not self.problems and self.total != self.expected:
            self.problems.append(
                f"the pages held {self.total} item(s) where items_count said {self.expected}"
            )
        return "; ".join(self.problems) or None

    def failure(self, attempts: int) -> UnstableRead:
        return UnstableRead(
            self.endpoint,
            f"the listing changed while its pages were read ({self.problem()}), "
            f"{attempts} time(s) in a row; nothing was planned from it. Run again when "
            "uploads and deletions have settled",
        )


@dataclass(frozen=True)
class Reader:
    """The reads of one run: the client, a pool for reads that fan out, the page size."""

    client: CincopaClient
    pool: ThreadPoolExecutor
    page_size: int = DEFAULT_PAGE_SIZE
    # Pages read ahead of the one being taken, at most, when pages are of DEFAULT_PAGE_SIZE
    # (larger pages: as many items' worth, two pages at least): against a fast server,
    # reading every page at once held a whole account's pages in memory (1 GB for a
    # million assets in pages of 1,000) while they waited their turn.
    ahead: int = 16

    def size(self, endpoint: str) -> int:
        """The items_per_page to ask for on a page of this listing."""
        return self.client.page_sizes.get(endpoint, self.page_size)

    def widest(
        self,
        call_for: Callable[[int, int], Call],
        shape: ListShape,
        first: tuple[list[Item], PageInfo],
        *,
        instead: int | None = None,
    ) -> tuple[list[Item], PageInfo]:
        """Page 1 of a listing, `first` (read at `size`), read again with larger pages
        while the server honours each size asked and the larger page saves calls: fewer
        than the pages left at the size of now, and than `instead` (the calls another way
        of reading would make). `call_for(number, size)` makes a page's call.

        The size of the page 1 returned is settled for the rest of the run, on the
        client: every later page of this listing, in any reader, asks for it, so pages
        are numbered as page 1 was. A larger size the API refuses ends the probing; what
        was read stays good."""
        endpoint = call_for(1, 1).endpoint
        settled = self.client.page_sizes
        if endpoint in settled:
            return first
        asked = self.page_size
        while (larger := next_size(asked, first[1])) is not None:
            info = first[1]
            calls_then = -(-info.items_count // larger)  # page 1 again, and the rest
            if calls_then >= min(
                info.pages_count - 1, instead if instead is not None else info.pages_count
            ):
                break
            try:
                # one try: a server failing at the larger size is answered by the smaller
                first = self.page(call_for(1, larger), shape, 1, attempts=1)
            except ApiError as exc:
                log.info(
                    "%s: pages of %d refused (%s); reading pages of %d",
                    endpoint,
                    larger,
                    exc.api_message,
                    asked,
                )
                break
            asked = larger
        settled[endpoint] = asked
        if asked != self.page_size:
            log.info("%s: the server honours %d items a page", endpoint, first[1].items_per_page)
        return first

    def map(self, function: Callable[[T], U], items: Iterable[T]) -> list[U]:
        return list(self.pool.map(function, items))

    def page(
        self, call: Call, shape: ListShape, number: int, *, attempts: int | None = None
    ) -> tuple[list[Item], PageInfo]:
        """One page: its items as the API sent them, and what items_data says."""
        body = self.client.call(call, attempts=attempts)
        items = items_of(body, shape.items, call.endpoint)
        return items, ep.parse_page_info(body, number, len(items))

    def pages(
        self,
        call_for: Callable[[int], Call],
        shape: ListShape,
        take: Callable[[list[Item]], None],
        *,
        first: tuple[list[Item], PageInfo] | None = None,
        concurrent: bool = False,
    ) -> PageTally | None:
        """One read of every page of a listing (page 1 may be given, already read): each
        page's items go to `take` as they come. The tally says whether the pages held
        still, and for one page whether it holds the items_count it says (a page 1 that
        claims to be the only one, and is not, must not pass for the whole listing)."""
        items, info = first if first is not None else self.page(call_for(1), shape, 1)
        tally = PageTally(call_for(1).endpoint, info, shape)
        tally.add(items, info)
        take(items)
        numbers = range(2, info.pages_count + 1)

        def fetch(number: int) -> tuple[list[Item], PageInfo]:
            return self.page(call_for(number), shape, number)

        if concurrent:
            fetched = self._ahead(fetch, numbers, info.items_per_page)
        else:
            fetched = map(fetch, numbers)
        for more, more_info in fetched:
            tally.add(more, more_info)
            take(more)
        return tally

    def _ahead(self, function: Callable[[int], U], numbers: range, per_page: int) -> Iterator[U]:
        """`pool.map` in order, with at most `ahead` pages (of DEFAULT_PAGE_SIZE: larger
        pages, as many items' worth) started and not yet taken."""
        ahead = min(self.ahead, max(2, self.ahead * DEFAULT_PAGE_SIZE // max(1, per_page)))
        submit = getattr(self.pool, "submit", None)
        if submit is None:  # an inline pool: one after another anyway
            yield from self.pool.map(function, numbers)
            return
        pending: deque[Future[U]] = deque()
        rest = iter(numbers)
        try:
            for number in islice(rest, ahead):
                pending.append(submit(function, number))
            while pending:
                result = pending.popleft().result()
                for number in islice(rest, 1):
                    pending.append(submit(function, number))
                yield result
        finally:
            for future in pending:
                future.cancel()

    def until_still(self, read_once: Callable[[], PageTally | None]) -> None:
        """Run `read_once` again while the listing it read moved under it, READ_ATTEMPTS
        times at most, then UnstableRead. `read_once` must start afresh each time (keep
        nothing of a read that moved); None means it read nothing that pages."""
        for attempt in range(1, READ_ATTEMPTS + 1):
            tally = read_once()
            if tally is None or tally.problem() is None:
                return
            if attempt == READ_ATTEMPTS:
                raise tally.failure(attempt)
            log.info("%s: %s; reading again", tally.endpoint, tally.problem())
            settled = self.client.page_sizes
            if settled.get(tally.endpoint, self.page_size) > self.page_size:
                # A server may honour a large page 1 and page otherwise after it: read again
                # in pages of the size of before, for the rest of the run.
                settled[tally.endpoint] = self.page_size
                log.info("%s: reading in pages of %d again", tally.endpoint, self.page_size)
            self.client.pause_before_reread(attempt)

    def every(self, call_for: Callable[[int], Call], shape: ListShape) -> list[Item]:
        """Every item of a listing that held still, pages read one after another."""
        found: list[Item] = []

        def read_once() -> PageTally | None:
            found.clear()
            return self.pages(call_for, shape, found.extend)

        self.until_still(read_once)
        return found


def next_size(asked: int, info: PageInfo) -> int | None:
    """The page size to probe after an answer to `asked`: None when the server gave fewer
    per page than asked (its cap) or `asked` is the ceiling already."""
    if info.items_per_page < asked or asked >= MAX_PAGE_SIZE:
        return None
    return min(asked * PROBE_FACTOR, MAX_PAGE_SIZE)


def items_of(body: Mapping[str, Any], key: str, endpoint: str) -> list[Item]:
    items = body.get(key)
    if items is None:
        return []
    # dict, not Mapping: an ABC check costs as much per item as the rest of the read
    if not isinstance(items, list) or not {dict}.issuperset(map(type, items)):
        raise ApiError(endpoint, f"the answer's {key!r} is not a list of objects")
    return items
