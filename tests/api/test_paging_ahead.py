"""Concurrent page reads stay a bounded window ahead of the pages being taken."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from cincopa_sync.api.paging import Reader
from cincopa_sync.engine.read import Inline


def test_pages_are_read_in_order_and_at_most_ahead_of_their_consumer() -> None:
    started: list[int] = []
    lock = threading.Lock()

    def fetch(number: int) -> int:
        with lock:
            started.append(number)
        return number * 10

    taken = []
    with ThreadPoolExecutor(max_workers=8) as pool:
        reader = Reader(None, pool, ahead=3)  # type: ignore[arg-type]
        for result in reader._ahead(fetch, range(2, 60), 100):
            taken.append(result)
            with lock:
                assert len(started) <= len(taken) + 3  # never the whole listing at once
    assert taken == [n * 10 for n in range(2, 60)]


@pytest.mark.parametrize(("per_page", "window"), [(1000, 16), (4000, 4), (10_000, 2)])
def test_larger_pages_keep_as_many_items_ahead_and_two_pages_at_least(per_page, window) -> None:
    started: list[int] = []
    lock = threading.Lock()
    release = threading.Event()

    def fetch(number: int) -> int:
        with lock:
            started.append(number)
        release.wait(5)
        return number

    with ThreadPoolExecutor(max_workers=32) as pool:
        reader = Reader(None, pool, ahead=16)  # type: ignore[arg-type]
        pages = reader._ahead(fetch, range(2, 100), per_page)
        first = threading.Thread(target=lambda: next(pages))
        first.start()
        for _ in range(500):  # the window fills (threads may be slow to start)...
            if len(started) >= window:
                break
            time.sleep(0.01)
        time.sleep(0.1)  # ...and nothing more starts before page 2 is taken
        with lock:
            assert len(started) == window
        release.set()
        first.join()
        list(pages)


def test_a_failed_page_stops_the_read_and_cancels_what_is_queued() -> None:
    def fetch(number: int) -> int:
        if number == 5:
            raise RuntimeError("page 5")
        return number

    with ThreadPoolExecutor(max_workers=2) as pool:
        reader = Reader(None, pool, ahead=2)  # type: ignore[arg-type]
        taken = []
        with pytest.raises(RuntimeError, match="page 5"):
            for result in reader._ahead(fetch, range(2, 1000), 100):
                taken.append(result)
    assert taken == [2, 3, 4]


def test_an_inline_pool_reads_one_page_after_another() -> None:
    reader = Reader(None, Inline(), ahead=2)  # type: ignore[arg-type]
    assert list(reader._ahead(lambda n: -n, range(2, 6), 100)) == [-2, -3, -4, -5]
