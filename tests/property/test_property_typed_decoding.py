"""Property: the typed decoder of listings (api/typed.py) and the json path it stands in
for read the same live state, and so plan the same, on any account.

Hypothesis draws accounts whose assets have every field absent, null, empty or odd (a
number where text is expected, 15.0 for a whole number, a list, an object, a lone
surrogate, huge numbers, NaN in a field nobody reads, keys written twice or with escapes,
a rid missing),
serves them as asset.list pages of a few items (written as raw JSON text, so that what
json.dumps never writes is served too), and reads a manifest over them twice: with the
typed decoder, and with json and the compiled predicate alone. Either both read the same
live state and make the same plan, or both fail with the same error (an answer out of
shape names the same endpoint, paths and deviations).
"""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
from hypothesis import event, given
from hypothesis import strategies as st
from support import FakeTime, reproducible

from cincopa_sync.api.client import CincopaClient
from cincopa_sync.api.retry import RetryPolicy
from cincopa_sync.api.shapes import decode_answer
from cincopa_sync.engine.diff import make_plan_for
from cincopa_sync.engine.read import read_live
from cincopa_sync.errors import CincopaSyncError
from cincopa_sync.manifest import load_manifests

TEXT_FIELDS = (
    "caption",
    "description",
    "long_description",
    "related_link_text",
    "related_link_url",
    "thumb_attached_rid",
)
BASE = "http://api.test/v2/"

plain_text = st.text(st.characters(codec="utf-8", categories=("L", "N", "P", "Zs")), max_size=12)
# Odd values in shape: null or empty text, digits as text, a huge count...
odd_text = st.sampled_from([None, "", " ", "0", "15", "007", ",a,b,", ",,", "a, b", "ünï 🎬"])
odd_count = st.sampled_from([None, "", "15", "007", 2**70, 0, 29])
# ...values in shape that the typed decoder refuses (json then reads the page)...
TYPED_REFUSES = (
    ("caption", "\ud800"),  # a lone surrogate
    ("video_thumb_sec", 15.0),  # a whole number with a fraction part
    ("versions", {"w": math.nan}),  # NaN, in a field nobody reads
)
# ...and values out of shape.
OUT_OF_SHAPE = (
    ("rid", ""),
    ("rid", 12),
    ("caption", 12),
    ("description", []),
    ("related_link_url", True),
    ("reference_id", {"x": 1}),
    ("thumb_attached_rid", 1.5),
    ("tags", ["a"]),
    ("filename", 3),
    ("video_thumb_sec", -1),
    ("video_thumb_sec", 1.5),
    ("video_thumb_sec", "1.5"),
    ("video_thumb_sec", " 1"),
    ("video_thumb_sec", True),
)


@st.composite
def items(draw: st.DrawFn, rid: str, ref: str | None) -> list[tuple[str, Any]]:
    """One asset as (key, value) pairs, every value in shape but odd; a key may come twice."""
    texts = st.one_of(plain_text, odd_text)
    pairs: list[tuple[str, Any]] = [("id", draw(st.integers(1, 10**6))), ("type", "video")]
    pairs.append(("rid", rid))
    if ref is not None:
        pairs.append(("reference_id", ref if draw(st.integers(0, 9)) else draw(texts)))
    elif draw(st.booleans()):
        pairs.append(("reference_id", draw(st.sampled_from([None, ""]))))
    for name in draw(st.lists(st.sampled_from(TEXT_FIELDS), unique=True)):
        pairs.append((name, draw(texts)))
    if draw(st.booleans()):
        pairs.append(("tags", draw(st.one_of(st.sampled_from([",launch,", ",a,b,", ""]), texts))))
    if draw(st.booleans()):
        pairs.append(("video_thumb_sec", draw(st.one_of(st.integers(0, 30), odd_count))))
    if draw(st.booleans()):
        pairs.append(("filename", draw(st.one_of(st.sampled_from(["clip.mp4", "x.mov"]), texts))))
    if draw(st.integers(0, 4)) == 0:  # a field nobody reads
        pairs.append(("versions", {"jpg": {"url": "https://cdn.test/a.jpg", "w": 1200}}))
    if draw(st.integers(0, 5)) == 0:  # one key written twice
        pairs.append(draw(st.sampled_from(pairs[2:])))
    return draw(st.permutations(pairs))


def with_value(draw: st.DrawFn, pairs: list[tuple[str, Any]], key: str, value: Any) -> list:
    """The asset with `key` set to `value` (a rid of None: no rid), or, now and then, with
    `key` written a second time."""
    others = [(k, v) for k, v in pairs if k != key]
    if value is None:
        return others
    if len(others) < len(pairs) and draw(st.booleans()):
        return [*pairs, (key, value)]
    return [*others, (key, value)]


def _text(pairs: list[tuple[str, Any]], ascii_only: bool, escaped_keys: bool) -> str:
    def key(k: str) -> str:
        return f'"\\u{ord(k[0]):04x}{k[1:]}"' if escaped_keys else json.dumps(k)

    return (
        "{" + ",".join(f"{key(k)}:{json.dumps(v, ensure_ascii=ascii_only)}" for k, v in pairs) + "}"
    )


@st.composite
def accounts(draw: st.DrawFn) -> dict[str, Any]:
    rids = draw(
        st.lists(st.from_regex(r"\A[A-Za-z0-9_]{6}\Z"), min_size=1, max_size=9, unique=True)
    )
    refs = [draw(st.sampled_from([None, f"SKU-{n}", "SKU-1"])) for n in range(len(rids))]
    assets = [draw(items(rid, ref)) for rid, ref in zip(rids, refs, strict=True)]
    # the manifest: some of the assets by rid, some by reference_id, a create whose source
    # names a filename some asset may have (the listing then keeps orphans)
    named = draw(st.lists(st.sampled_from(rids), unique=True, max_size=4))
    entries = [{"rid": rid, **draw(_managed())} for rid in named]
    for ref in draw(st.lists(st.sampled_from(["SKU-1", "SKU-2", "SKU-3"]), unique=True)):
        entries.append({"reference_id": ref, **draw(_managed())})
    if draw(st.booleans()):
        entries.append({"reference_id": "NEW-1", "source": "https://media.test/v/clip.mp4"})
    # now and then a value the typed decoder refuses, or one out of shape (which decides
    # the outcome), often in an asset the plan reads
    for odd, one_in in ((TYPED_REFUSES, 4), ((*OUT_OF_SHAPE, ("rid", None)), 1.5)):
        if draw(st.floats(0, 1)) * one_in < 1:
            among = named if named and draw(st.integers(0, 3)) else rids
            n = rids.index(draw(st.sampled_from(among)))
            key, value = draw(st.sampled_from(odd))
            assets[n] = with_value(draw, assets[n], key, value)
    ascii_only, escaped = draw(st.booleans()), draw(st.integers(0, 4)) == 0
    return {
        "items": [_text(pairs, ascii_only, escaped) for pairs in assets],
        "cap": draw(st.integers(1, 4)),
        # a page answering success: false, in the listing's shape otherwise
        "refused_page": draw(st.sampled_from([None, None, None, 1, 2])),
        "manifest": {"version": 1, "assets": entries},
    }


@st.composite
def _managed(draw: st.DrawFn) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name in draw(st.lists(st.sampled_from(TEXT_FIELDS[:5]), unique=True, max_size=3)):
        fields[name] = draw(st.sampled_from(["", "Spring", "0", "ünï"]))
    if draw(st.booleans()):
        fields["tags"] = draw(st.lists(st.sampled_from(["launch", "a", "b"]), unique=True))
    if draw(st.booleans()):
        fields["video_thumb_sec"] = draw(st.integers(0, 30))
    return fields


def _serve(account: dict[str, Any], taken: list[bool]) -> httpx.MockTransport:
    """asset.list as the contract says (paging by items_data under a page cap, rid,
    reference_id and search filters), over the raw texts; asset.get_tags. `taken` gets,
    per page, whether the typed decoder takes it (else the client falls back to json)."""
    texts, cap = account["items"], account["cap"]
    parsed = [json.loads(t) for t in texts]

    def matches(item: dict[str, Any], params: dict[str, str]) -> bool:
        if "rid" in params and str(item.get("rid")) != params["rid"]:
            return False
        if "reference_id" in params and str(item.get("reference_id")) != params["reference_id"]:
            return False
        return "search" not in params or params["search"].lower() in json.dumps(item).lower()

    def handler(request: httpx.Request) -> httpx.Response:
        params = dict(parse_qsl(request.url.query.decode(), keep_blank_values=True))
        endpoint = request.url.path.rsplit("/", 1)[-1].removesuffix(".json")
        if endpoint == "asset.get_tags":
            return httpx.Response(200, content=b'{"success":true,"tag_cloud":{"launch":1}}')
        assert endpoint == "asset.list", endpoint
        chosen = [t for t, item in zip(texts, parsed, strict=True) if matches(item, params)]
        page = int(params.get("page", "1"))
        per_page = min(int(params.get("items_per_page", "50")), cap)
        on_page = chosen[(page - 1) * per_page : page * per_page]
        data = {
            "page": page,
            "items_per_page": per_page,
            "items_count": len(chosen),
            "pages_count": -(-len(chosen) // per_page),
        }
        success = "false" if page == account["refused_page"] else "true"
        body = '{"success":' + success + ',"items":[' + ",".join(on_page) + '],"items_data":'
        content = (body + json.dumps(data) + "}").encode("utf-8", "surrogatepass")
        taken.append(decode_answer("asset.list", content) is not None)
        return httpx.Response(200, content=content)

    return httpx.MockTransport(handler)


def _read(account: dict[str, Any], desired: Any, typed: bool, taken: list[bool]) -> tuple[Any, ...]:
    fake = FakeTime()
    client = CincopaClient(
        BASE,
        "token",
        transport=_serve(account, taken),
        policy=RetryPolicy(max_attempts=2),
        clock=fake.clock,
        sleep=fake.sleep,
        typed_decoding=typed,
    )
    with client:
        try:
            live = read_live(client, desired, parallelism=2)
        except CincopaSyncError as exc:
            return ("failed", type(exc).__name__, str(exc))
        try:
            plan = make_plan_for(desired, live)
        except CincopaSyncError as exc:
            return ("live", live.of("asset"), type(exc).__name__, str(exc))
        return ("live", live.of("asset"), plan)


@reproducible(300)
@given(accounts())
def test_the_typed_decoder_reads_what_json_reads(account: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "manifest.yaml"
        path.write_text(json.dumps(account["manifest"], ensure_ascii=False), encoding="utf-8")
        desired = load_manifests([str(path)], {})
    taken: list[bool] = []
    typed = _read(account, desired, True, taken)
    plain = _read(account, desired, False, [])
    assert typed == plain
    event(f"{typed[0]}{' (then an invalid plan)' if len(typed) == 4 else ''}")
    share = "all" if all(taken) else "none" if not any(taken) else "some"
    event(f"the typed decoder took {share} of the pages")
