"""What checking answers against their shapes (schemas/api/) costs the client, per listed
asset, next to what the client does with an asset anyway.

Builds asset.list pages as the emulator answers them (1,000 items, the page size plans
ask for) and times, per item, on each page just decoded: decoding the JSON, the shape
check as the client runs it (jsonschema on the envelope, the compiled predicate on the
items), the same check done by jsonschema alone (what the predicate saves), finding an
asset's rid and dropping it (what a listing costs for an asset no manifest names), and
parsing an item into a live asset (for one a manifest names). See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

from jsonschema import Draft202012Validator

from cincopa_sync.api import endpoints as ep
from cincopa_sync.api.shapes import shape_for
from cincopa_sync.emulator import Emulator
from cincopa_sync.kinds import get

PAGE = 1000


def _page_bytes(pages: int) -> list[bytes]:
    assets = [
        {
            "rid": f"R{i:011d}",
            "caption": f"Video {i}",
            "description": "A description of some length, as real ones have.",
            "reference_id": f"SKU-{i}",
            "tags": ["launch", "cars"] if i % 3 else [],
            "filename": f"video-{i}.mp4",
            **({"video_thumb_sec": 15} if i % 5 == 0 else {}),
        }
        for i in range(PAGE * pages)
    ]
    em = Emulator({"assets": assets}, page_cap=PAGE, record_calls=False)
    out = []
    for page in range(1, pages + 1):
        params = {"api_token": "emulator-token", "page": str(page), "items_per_page": str(PAGE)}
        out.append(em.handle("GET", "/v2/asset.list.json", params).body)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--pages", type=int, default=20, help="pages of 1,000 assets")
    parser.add_argument("--repeat", type=int, default=5, help="best of N runs")
    args = parser.parse_args()
    raw = _page_bytes(args.pages)
    n = PAGE * args.pages
    shape = shape_for(ep.ASSET_LIST)
    assert shape is not None
    whole = Draft202012Validator(shape.root)
    kind = get("asset")
    rid = ep.ASSET_RID
    wanted: set[str] = set()

    def find_and_drop(body: dict) -> None:
        for item in body["items"]:
            if str(item.get(rid, "")) in wanted:
                raise AssertionError

    def parse(body: dict) -> None:
        for item in body["items"]:
            kind.parse(item)

    steps: list[tuple[str, Callable[[dict], object]]] = [
        ("shape check, as the client runs it", shape.check),
        ("  of which: jsonschema on the envelope", shape.envelope.is_valid),
        ("jsonschema on everything (not used)", whole.is_valid),
        ("find the rid and drop the asset", find_and_drop),
        ("parse an item into a live asset", parse),
    ]
    # As the client does: each page is decoded, then checked and read at once, so every
    # step meets objects just made, not ones a previous run left warm in the caches.
    best = {label: float("inf") for label in ["json.loads of the answer", *(s[0] for s in steps)]}
    for _ in range(args.repeat):
        spent = dict.fromkeys(best, 0.0)
        for page in raw:
            started = time.perf_counter()
            body = json.loads(page)
            spent["json.loads of the answer"] += time.perf_counter() - started
            for label, step in steps:
                started = time.perf_counter()
                step(body)
                spent[label] += time.perf_counter() - started
        best = {label: min(best[label], spent[label]) for label in best}
    print(f"{n:,} assets in {args.pages} pages of {PAGE:,}; best of {args.repeat}")
    print(f"{'step':<42} {'total':>9} {'per asset':>11}")
    for label, seconds in best.items():
        print(f"{label:<42} {seconds * 1000:7.1f} ms {seconds / n * 1e6:8.2f} µs")


if __name__ == "__main__":
    main()
