"""What export writes: the 5,000-entry split, order, headers, secrets, what it leaves out."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cincopa_sync.api.client import CincopaClient
from cincopa_sync.emulator import Emulator
from cincopa_sync.engine import export as export_module
from cincopa_sync.engine.diff import make_plan_for
from cincopa_sync.engine.export import (
    HEADER_MARK,
    Account,
    export_account,
    write_export,
)
from cincopa_sync.engine.read import read_live
from cincopa_sync.errors import InvalidInput
from cincopa_sync.kinds import get, kinds
from cincopa_sync.kinds.webhook import mask_url
from cincopa_sync.manifest import load_manifests
from cincopa_sync.manifest.yamlwrite import UNWRITABLE

ENTRY = re.compile(r"^  - rid: ", re.MULTILINE)
ASSETS_PER_FILE = get("asset").export_per_file


def _account(**by_plural: list[dict[str, Any]]) -> Account:
    """An Account from lists of live objects keyed by kind plural (assets=[...])."""
    names = {kind.plural: kind.name for kind in kinds()}
    return Account({names[plural]: objects for plural, objects in by_plural.items()})


def _asset(rid: str, **fields: Any) -> dict[str, Any]:
    """An asset as the client reads it (canonical: tags a frozenset)."""
    asset: dict[str, Any] = {"rid": rid, "tags": frozenset(), "video_thumb_sec": None}
    for name in (
        "caption",
        "description",
        "long_description",
        "related_link_text",
        "related_link_url",
        "reference_id",
        "thumb_attached_rid",
    ):
        asset[name] = ""
    asset.update(fields)
    return asset


def _client(emulator: Emulator) -> CincopaClient:
    return CincopaClient(
        "http://emulator.test/v2/", "emulator-token", transport=emulator.transport()
    )


def test_10001_assets_split_into_files_of_5000_in_rid_order(tmp_path: Path) -> None:
    count = 2 * ASSETS_PER_FILE + 1
    # ids and rids in opposite orders: the files must follow the rid, not the listing.
    seed = {
        "assets": [
            {"id": str(i + 1), "rid": f"r{count - i:06d}", "caption": f"c{i}", "tags": ["t"]}
            for i in range(count)
        ]
    }
    emulator = Emulator(seed, page_cap=1_000)
    out = tmp_path / "m"
    with _client(emulator) as client:
        result = export_account(client, out, parallelism=4)
        files = sorted(p.name for p in out.glob("*.yaml"))
        assert files == [
            "assets-001.yaml",
            "assets-002.yaml",
            "assets-003.yaml",
            "portals.yaml",
            "webhooks.yaml",
        ]
        rids = []
        for name in files[:3]:
            text = (out / name).read_text(encoding="utf-8")
            rids += re.findall(r'^  - rid: "([^"]+)"$', text, re.MULTILINE)
            assert len(ENTRY.findall(text)) <= ASSETS_PER_FILE
        assert [len(ENTRY.findall((out / n).read_text(encoding="utf-8"))) for n in files[:3]] == [
            5_000,
            5_000,
            1,
        ]
        assert rids == sorted(rids) and len(set(rids)) == count
        assert result.counts["asset"] == count
        # the listing paged (11 pages of at most 1,000), concurrently, each page once, and
        # page 1 was asked for once more in pages of 10,000 (the server gave 1,000)
        listing = [c for c in emulator.calls if c.endpoint == "asset.list"]
        assert [c.params.get("items_per_page") for c in listing[:2]] == ["1000", "10000"]
        assert len(listing) == 12

        desired = load_manifests([str(out)], {})
        assert make_plan_for(desired, read_live(client, desired)).changes == ()


def test_a_file_is_also_closed_before_it_grows_too_large(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export_module, "MAX_EXPORT_FILE_BYTES", 2_000)
    account = _account(assets=[_asset(f"r{i:03d}", long_description="x" * 500) for i in range(10)])
    write_export(account, tmp_path / "m")
    assets_files = sorted((tmp_path / "m").glob("assets-*.yaml"))
    assert len(assets_files) > 2
    entries = [len(ENTRY.findall(p.read_text(encoding="utf-8"))) for p in assets_files]
    assert sum(entries) == 10 and min(entries) >= 1


def test_every_file_starts_with_the_schema_line_and_version(tmp_path: Path) -> None:
    write_export(_account(assets=[_asset("r1")]), tmp_path / "m")
    schema = Path(__file__).resolve().parents[2] / "schemas" / "manifest.schema.json"
    for path in (tmp_path / "m").glob("*.yaml"):
        lines = path.read_text(encoding="utf-8").splitlines()
        first = lines[0]
        assert first.startswith("# yaml-language-server: $schema=")
        ref = first.split("$schema=", 1)[1]
        # A copy beside the files, relative to each: it works wherever they are committed.
        assert ref == ".cincopa-sync/manifest.schema.json"
        assert (path.parent / ref).read_bytes() == schema.read_bytes()
        assert lines[1].startswith(HEADER_MARK)
        assert "version: 1" in lines
    portals = (tmp_path / "m" / "portals.yaml").read_text(encoding="utf-8")
    assert "prune is not written" in portals and "\nprune:" not in portals
    assert portals.endswith("portals: []\n")


def test_a_schema_url_can_be_given(tmp_path: Path) -> None:
    url = "https://example.com/manifest.schema.json"
    write_export(_account(), tmp_path / "m", schema=url)
    text = (tmp_path / "m" / "webhooks.yaml").read_text(encoding="utf-8")
    assert text.startswith(f"# yaml-language-server: $schema={url}\n")


def test_secrets_are_references_never_values(
    tmp_path: Path, read_all: Callable[[Path], str]
) -> None:
    slack = "https://hooks.slack.com/services/TCANARY1/BCANARY2/slackCanarySecret"
    seed = {
        "webhooks": [
            {"hook_url": slack, "type": "slack", "events": ["asset.*"]},
            {
                "hook_url": "https://a.example.com/h",
                "events": ["asset.uploaded"],
                "security_key": "keyCanary-1",
            },
            {
                "hook_url": "https://b.example.com/h",
                "events": ["asset.uploaded"],
                "security_key": "keyCanary-2",
            },
            {"hook_url": "https://c.example.com/h", "events": ["asset.updated"]},
        ]
    }
    with _client(Emulator(seed)) as client:
        result = export_account(client, tmp_path / "m")
    text = read_all(tmp_path / "m")
    for secret in ("slackCanarySecret", "TCANARY1", "BCANARY2", "keyCanary"):
        assert secret not in text
        assert secret not in repr(result)
    assert [(v.name, v.purpose) for v in result.variables] == [
        ("CINCOPA_HOOK_KEY_1", "the security key of the webhook https://a.example.com/h"),
        ("CINCOPA_HOOK_KEY_2", "the security key of the webhook https://b.example.com/h"),
        ("SLACK_WEBHOOK_URL_1", f"the URL of the Slack webhook {mask_url(slack)}"),
    ]
    # each reference sits next to a comment naming the variable to set
    for variable in result.variables:
        assert re.search(rf"#[^\n]*{variable.name}[^\n]*\n[^\n]*\$\{{{variable.name}\}}", text)
    assert text.count("security_key:") == 2  # the hook without a key gets none


def test_objects_a_manifest_cannot_describe_are_left_out_and_reported(tmp_path: Path) -> None:
    account = _account(
        assets=[_asset("ok"), _asset("bad\ud800")],
        portals=[
            {"subdomain": "Upper", "name": "", "visibility": "public", "settings": {}},
            {"subdomain": "fine", "name": "", "visibility": "", "settings": {}},
        ],
        webhooks=[
            {"url": "http://plain.example.com/h", "type": "http", "events": frozenset({"a.b"})},
            {"url": "https://x.example.com/h", "type": "http", "events": frozenset()},
            {"url": "https://y.example.com/h", "type": "http", "events": frozenset({"a.b"})},
        ],
    )
    result = write_export(account, tmp_path / "m")
    assert result.counts == {"asset": 1, "portal": 1, "webhook": 1}
    assert len(result.skipped) == 4
    joined = "\n".join(result.skipped)
    for part in ("invalid Unicode", "'Upper'", "http://plain.example.com/h", "no events"):
        assert part in joined
    desired = load_manifests([str(tmp_path / "m")], {})  # what was written loads
    assert [p.subdomain for p in desired.of("portal")] == ["fine"]
    assert "visibility" not in desired.of("portal")[0].fields  # unknown live value: not managed


def test_objects_holding_control_characters_are_left_out_and_named(tmp_path: Path) -> None:
    """A live value with a control character cannot go into a manifest (the schema refuses
    it), so the object is left out, with why; tabs and line breaks in free text are fine."""
    account = _account(
        assets=[
            _asset("nul", caption="a\x00b"),
            _asset("tagged", tags=frozenset({"two\nlines"})),
            _asset("multiline", caption="tab\there", long_description="one\ntwo\r\n"),
        ],
        portals=[
            {"subdomain": "named", "name": "\x1b[31mred", "visibility": "public", "settings": {}},
            {"subdomain": "keyed", "name": "", "visibility": "", "settings": {"k\n": "v"}},
        ],
        webhooks=[
            {"url": "https://x.example.com/a\nb", "type": "http", "events": frozenset({"a.b"})},
        ],
    )
    result = write_export(account, tmp_path / "m")
    assert result.counts == {"asset": 1, "portal": 0, "webhook": 0}
    assert len(result.skipped) == 5
    assert all(UNWRITABLE in why for why in result.skipped), result.skipped
    desired = load_manifests([str(tmp_path / "m")], {})
    assert desired.of("asset")[0].fields["long_description"] == "one\ntwo\r\n"


def test_an_earlier_exports_extra_files_are_removed(tmp_path: Path) -> None:
    out = tmp_path / "m"
    write_export(_account(assets=[_asset(f"r{i:05d}") for i in range(ASSETS_PER_FILE + 1)]), out)
    assert (out / "assets-002.yaml").exists()
    result = write_export(_account(assets=[_asset("r1")]), out)
    assert result.removed == (out / "assets-002.yaml",)
    assert sorted(p.name for p in out.iterdir()) == [
        ".cincopa-sync",  # the record of what it wrote, and the schema copy
        "assets-001.yaml",
        "portals.yaml",
        "webhooks.yaml",
    ]


def test_a_failed_write_leaves_no_temp_file_and_the_old_file_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "m"
    write_export(_account(assets=[_asset("r1", caption="old")]), out)
    old = (out / "assets-001.yaml").read_bytes()

    def fail(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(export_module.os, "replace", fail)
    with pytest.raises(InvalidInput, match="cannot write: disk full"):
        write_export(_account(assets=[_asset("r1", caption="new")]), out)
    assert (out / "assets-001.yaml").read_bytes() == old
    assert sorted(p.name for p in out.iterdir()) == [
        ".cincopa-sync",  # the record of what it wrote, and the schema copy
        "assets-001.yaml",
        "portals.yaml",
        "webhooks.yaml",
    ]


@pytest.mark.parametrize(
    "entries",
    [
        {"notes.txt": "x"},
        {"sub/": None},
        {"assets-001.yaml": "# hand-written\nassets: []\n"},
        {"assets-1.yaml": f"# x\n{HEADER_MARK}\n"},  # not a name export writes
    ],
)
def test_foreign_entries_are_refused(tmp_path: Path, entries: dict[str, str | None]) -> None:
    out = tmp_path / "m"
    out.mkdir()
    for name, content in entries.items():
        if content is None:
            (out / name).mkdir()
        else:
            (out / name).write_text(content, encoding="utf-8")
    before = sorted(p.name for p in out.iterdir())
    with pytest.raises(InvalidInput) as raised:
        write_export(_account(), out)
    assert raised.value.exit_code == 3
    assert sorted(p.name for p in out.iterdir()) == before
