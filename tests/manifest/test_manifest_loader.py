"""load_manifests: paths, files, the model it builds, and how it reports problems."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import yaml
from support import EXAMPLES

from cincopa_sync import files
from cincopa_sync.errors import InvalidInput, Location
from cincopa_sync.kinds.asset import AssetSpec
from cincopa_sync.manifest import load_manifests, yamlload

DESIGN_EXAMPLE = """\
version: 1
assets:
  - rid: A4KANh__rQ_m
    caption: Spring launch
    description: Our new line-up
    long_description: ""
    related_link_text: Shop now
    related_link_url: https://shop.example.com/spring
    reference_id: SKU-1
    tags: [launch, cars, " cars ", launch]
    video_thumb_sec: 15
    thumb_attached_rid: B7xQ__aa
  - reference_id: SKU-2
    caption: "  Winter sale  "
portals:
  - subdomain: acme-videos
    previously: [acme-old]
    name: Acme Videos
    visibility: public
    settings: {theme: dark, ratio: 1.10, autoplay: true, count: 3, label: "007"}
webhooks:
  - url: https://hooks.example.com/cincopa
    events: [asset.uploaded, asset.updated, asset.uploaded]
    security_key: ${CINCOPA_HOOK_KEY}
  - url: ${SLACK_WEBHOOK_URL}
    type: slack
    events: [asset.*]
prune:
  portals: true
"""
ENV = {
    "CINCOPA_HOOK_KEY": "k3y",
    "SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T0/B0/abc",
}


def test_the_design_example_builds_the_canonical_model(parser: str, write) -> None:
    path = write("all.yaml", DESIGN_EXAMPLE)
    state = load_manifests([path], ENV)
    first, second = state.of("asset")
    assert (first.by, first.ident, first.address) == ("rid", "A4KANh__rQ_m", "asset.A4KANh__rQ_m")
    assert dict(first.fields) == {
        "caption": "Spring launch",
        "description": "Our new line-up",
        "long_description": "",
        "related_link_text": "Shop now",
        "related_link_url": "https://shop.example.com/spring",
        "reference_id": "SKU-1",
        "tags": frozenset({"launch", "cars"}),
        "video_thumb_sec": 15,
        "thumb_attached_rid": "B7xQ__aa",
    }
    assert first.location == Location(path, 3, 5)
    assert (second.by, second.ident, second.address) == ("reference_id", "SKU-2", "asset.ref:SKU-2")
    assert dict(second.fields) == {"caption": "  Winter sale  "}  # text stays as written

    (portal,) = state.of("portal")
    assert (portal.subdomain, portal.previously) == ("acme-videos", ("acme-old",))
    assert portal.fields["name"] == "Acme Videos"
    assert portal.fields["visibility"] == "public"
    assert dict(portal.fields["settings"]) == {
        "theme": "dark",
        "ratio": "1.10",
        "autoplay": "true",
        "count": "3",
        "label": "007",
    }

    hook, slack = state.of("webhook")
    assert (hook.type, hook.events, hook.security_key) == (
        "http",
        frozenset({"asset.uploaded", "asset.updated"}),
        "k3y",
    )
    assert (slack.type, slack.url, slack.security_key) == ("slack", ENV["SLACK_WEBHOOK_URL"], None)
    assert "abc" not in slack.address
    assert (state.prunes("portal"), state.prunes("webhook")) == (True, False)
    assert state.files == (path,)
    assert state.warnings == ()
    assert len(state.digest) == 64


def test_fields_left_out_are_not_in_the_model(parser: str, write) -> None:
    state = load_manifests([write("m.yaml", "assets:\n  - rid: A1\n    tags: []\n")], {})
    assert dict(state.of("asset")[0].fields) == {"tags": frozenset()}


def test_a_video_thumb_written_as_a_whole_float_is_an_int(parser: str, write) -> None:
    state = load_manifests([write("m.yaml", "assets:\n  - {rid: A1, video_thumb_sec: 15.0}\n")], {})
    value = state.of("asset")[0].fields["video_thumb_sec"]
    assert (value, type(value)) == (15, int)


def test_an_empty_file_is_an_empty_manifest(parser: str, write) -> None:
    state = load_manifests([write("empty.yaml", ""), write("comment.yaml", "# nothing\n")], {})
    assert (state.of("asset"), state.of("portal"), state.of("webhook")) == ((), (), ())


def test_entries_keep_manifest_order_across_files(parser: str, tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "z.yaml").write_text("assets:\n  - rid: B2\n  - rid: B1\n")
    (tmp_path / "a.yml").write_text("assets:\n  - rid: A2\n  - rid: A1\n")
    (tmp_path / "c.yaml").write_text("assets:\n  - rid: C1\n")
    (tmp_path / "notes.txt").write_text("assets: [not, yaml, suffix]\n")
    (tmp_path / ".hidden.yaml").write_text("assets:\n  - rid: HIDDEN\n")
    state = load_manifests([str(tmp_path)], {})
    assert [a.ident for a in state.of("asset")] == ["A2", "A1", "B2", "B1", "C1"]
    assert state.files == (
        f"{tmp_path}/a.yml",
        f"{tmp_path}/b/z.yaml",
        f"{tmp_path}/c.yaml",
    )


def test_paths_keep_the_order_given(parser: str, write) -> None:
    second = write("2.yaml", "assets:\n  - rid: TWO\n")
    first = write("1.yaml", "assets:\n  - rid: ONE\n")
    state = load_manifests([second, first], {})
    assert [a.ident for a in state.of("asset")] == ["TWO", "ONE"]


def test_locations_use_the_path_as_given(parser: str, tmp_path: Path, in_dir) -> None:
    (tmp_path / "manifests").mkdir()
    (tmp_path / "manifests" / "assets.yaml").write_text("assets:\n  - caption: x\n")
    in_dir(tmp_path)
    for given, shown in [
        ("manifests", "manifests/assets.yaml"),
        ("manifests/", "manifests/assets.yaml"),
        ("./manifests", "./manifests/assets.yaml"),
        ("manifests/assets.yaml", "manifests/assets.yaml"),
    ]:
        with pytest.raises(InvalidInput) as caught:
            load_manifests([given], {})
        assert str(caught.value) == f"{shown}:2:5: asset has no identity: give rid or reference_id"
    in_dir(tmp_path / "manifests")
    with pytest.raises(InvalidInput) as caught:
        load_manifests(["."], {})
    assert str(caught.value).startswith("assets.yaml:2:5: ")


def test_a_file_reached_twice_is_read_once(parser: str, tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("assets:\n  - rid: A1\n")
    state = load_manifests([str(tmp_path), str(tmp_path / "a.yaml")], {})
    assert len(state.of("asset")) == 1


def test_a_symlink_loop_does_not_hang(parser: str, tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.yaml").write_text("assets:\n  - rid: A1\n")
    os.symlink("..", tmp_path / "sub" / "up")
    os.symlink(".", tmp_path / "self")
    start = time.monotonic()
    state = load_manifests([str(tmp_path)], {})
    assert time.monotonic() - start < 2
    assert [a.ident for a in state.of("asset")] == ["A1"]


def test_a_path_that_does_not_exist(parser: str, tmp_path: Path, problems_of) -> None:
    missing = str(tmp_path / "nope.yaml")
    assert problems_of([missing]) == [f"{missing}: no such file or directory"]


def test_no_path_at_all(problems_of) -> None:
    assert problems_of([]) == ["no manifest path given"]


def test_a_directory_without_manifests(parser: str, tmp_path: Path, problems_of) -> None:
    (tmp_path / "readme.txt").write_text("hello")
    assert problems_of([str(tmp_path)]) == [
        f"{tmp_path}/readme.txt:1:1: warning: not loaded: only *.yaml, *.yml and *.json files "
        "in a directory are manifests",
        f"{tmp_path}: no *.yaml, *.yml or *.json files in it",
    ]


def test_files_a_directory_holds_but_are_not_loaded_are_named(
    parser: str, tmp_path: Path, problems_of
) -> None:
    (tmp_path / "ok.yaml").write_text("portals:\n  - subdomain: ok\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "Upper.YAML").write_text("portals:\n  - subdomain: up\n")
    (tmp_path / "notes.txt").write_text("{}")
    (tmp_path / ".hidden.txt").write_text("{}")  # hidden: skipped without a word
    assert problems_of([str(tmp_path)]) == [
        f"{tmp_path}/notes.txt:1:1: warning: not loaded: only *.yaml, *.yml and *.json files "
        "in a directory are manifests",
        f"{tmp_path}/sub/Upper.YAML:1:1: warning: not loaded: .YAML is not .yaml/.yml/.json "
        "(lower case): rename it",
    ]


def test_a_fifo_is_not_opened(parser: str, tmp_path: Path, problems_of) -> None:
    os.mkfifo(tmp_path / "pipe.yaml")  # opening it for reading would block forever
    (tmp_path / "ok.yaml").write_text("assets:\n  - rid: A1\n")
    assert problems_of([str(tmp_path)]) == [f"{tmp_path}/pipe.yaml:1:1: not a regular file"]


def test_an_unreadable_file_is_a_problem_not_a_traceback(
    parser: str, write, problems_of, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tests may run as root, which reads a chmod 000 file: make opening it fail instead.
    path = write("secret.yaml", "assets: []\n")
    real_open = os.open

    def refuse(file: str, *args: object, **kwargs: object) -> int:
        if os.fspath(file) == os.fspath(path):
            raise PermissionError(13, "Permission denied", file)
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(files.os, "open", refuse)
    assert problems_of([path]) == [f"{path}:1:1: cannot read: Permission denied"]


def test_the_size_cap_is_checked_before_reading(
    parser: str, write, problems_of, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write("big.yaml", "assets:\n" + "  - rid: A1\n" * 20)
    monkeypatch.setattr(yamlload, "MAX_FILE_BYTES", 100)

    real_open = os.open

    def never(file: str, *args: object, **kwargs: object) -> int:
        assert os.fspath(file) != os.fspath(path), "a file over the cap must not be opened"
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(files.os, "open", never)
    assert problems_of([path]) == [
        f"{path}:1:1: file is larger than the 100 bytes limit for a manifest"
    ]


def test_the_size_cap_is_64_mib() -> None:
    assert yamlload.MAX_FILE_BYTES == 64 * 1024 * 1024


def test_non_utf8_is_located(parser: str, write, problems_of) -> None:
    path = write("latin1.yaml", "assets:\n  - rid: A1\n    caption: Café\n".encode("latin-1"))
    assert problems_of([path]) == [
        f"{path}:3:17: invalid UTF-8 byte 0xe9: manifests must be UTF-8 text"
    ]


def test_every_problem_of_every_file_is_reported(parser: str, write, problems_of) -> None:
    broken = write("a.yaml", "assets:\n  - rid: A1\n    rid: A2\n")
    invalid = write(
        "b.yaml", "assets:\n  - rid: 12\n  - caption: x\nportals:\n  - subdomain: Bad\n"
    )
    lines = problems_of([broken, invalid])
    assert lines == [
        f"{broken}:3:5: duplicate key 'rid' (first at line 2, column 5)",
        f'{invalid}:2:10: rid must be a string, got integer 12 (quote it: "12")',
        f"{invalid}:3:5: asset has no identity: give rid or reference_id",
        f"{invalid}:5:16: subdomain 'Bad' is not valid: it must be a DNS label: 1 to 63 "
        "characters of a-z, 0-9 and '-', not starting or ending with '-' (no uppercase)",
    ]


def test_warnings_come_with_errors_and_alone(parser: str, write, problems_of) -> None:
    hooks = "webhooks:\n  - url: https://h.example.com\n    events: [asset.uplaoded]\n"
    warned = write("hooks.yaml", hooks)
    state = load_manifests([warned], {})
    assert [str(w) for w in state.warnings] == [
        f"{warned}:3:14: warning: unknown webhook event 'asset.uplaoded' "
        "(did you mean 'asset.uploaded'?)"
    ]
    bad = write("bad.yaml", "assets:\n  - caption: x\n")
    assert problems_of([warned, bad]) == [
        f"{bad}:2:5: asset has no identity: give rid or reference_id",
        f"{warned}:3:14: warning: unknown webhook event 'asset.uplaoded' "
        "(did you mean 'asset.uploaded'?)",
    ]


def test_did_you_mean_and_quote_it(parser: str, write, problems_of) -> None:
    path = write("m.yaml", "assets:\n  - rid: A1\n    captoin: x\n    reference_id: 1.10\n")
    assert problems_of([path]) == [
        f"{path}:3:5: unknown key 'captoin' in asset (did you mean 'caption'?)",
        f'{path}:4:19: reference_id must be a string, got number 1.10 (quote it: "1.10")',
    ]


def test_duplicate_declaration_across_files_names_both_places(
    parser: str, write, problems_of
) -> None:
    first = write("a.yaml", "portals:\n  - subdomain: acme\n")
    second = write("b.yaml", "portals:\n  - subdomain: other\n    previously: [acme]\n")
    assert problems_of([first, second]) == [
        f"{second}:3:18: portal name acme is declared twice: here and at {first}:2:16"
    ]


def test_the_digest_follows_content_not_spelling(parser: str, tmp_path: Path, in_dir) -> None:
    (tmp_path / "m").mkdir()
    manifest = tmp_path / "m" / "a.yaml"
    manifest.write_text("assets:\n  - rid: A1\n")
    in_dir(tmp_path)
    digest = load_manifests(["m"], {}).digest
    assert load_manifests([str(tmp_path / "m")], {}).digest == digest
    assert load_manifests(["./m/"], {}).digest == digest
    manifest.write_text("assets:\n  - rid: A1 \n")
    assert load_manifests(["m"], {}).digest != digest
    manifest.write_text("assets:\n  - rid: A1\n")
    manifest.rename(tmp_path / "m" / "b.yaml")
    assert load_manifests(["m"], {}).digest != digest


def test_a_file_with_yaml_errors_does_not_stop_the_others(parser: str, write, problems_of) -> None:
    broken = write("a.yaml", "assets: [\n")
    other = write("b.yaml", "portals:\n  - subdomain: UPPER\n")
    lines = problems_of([broken, other])
    assert len(lines) == 2
    assert lines[0].startswith(f"{broken}:2:1: invalid YAML")
    assert lines[1].startswith(f"{other}:2:16: subdomain 'UPPER' is not valid")


def test_gc_state_is_restored(write) -> None:
    import gc

    path = write("m.yaml", "assets: []\n")
    assert gc.isenabled()
    load_manifests([path], {})
    assert gc.isenabled()
    gc.disable()
    try:
        load_manifests([path], {})
        assert not gc.isenabled()
    finally:
        gc.enable()


@pytest.mark.skipif(
    not EXAMPLES.is_dir() or not any(EXAMPLES.rglob("*.y*ml")),
    reason="no example manifests yet",
)
def test_every_example_manifest_loads_cleanly(parser: str) -> None:
    env = {
        "CINCOPA_HOOK_KEY": "example-key",
        "SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T0/B0/example",
    }
    for path in sorted(EXAMPLES.rglob("*.y*ml")):
        state = load_manifests([str(path)], env)
        assert state.warnings == (), path
    load_manifests([str(EXAMPLES)], env)


# --- cost: the whole load against a plain yaml.load of the same file ------------------


def _asset_file(count: int) -> str:
    lines = ["version: 1", "assets:"]
    for i in range(count):
        lines += [
            f"  - rid: R{i:08d}",
            f"    caption: Caption number {i}",
            f'    description: "A description for {i}"',
            f"    reference_id: SKU-{i}",
            f"    tags: [launch, cars, t{i % 50}]",
            f"    video_thumb_sec: {i % 60}",
        ]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("parser", ["c", "pure"])
def test_a_large_generated_file_loads_into_the_model(
    write, monkeypatch: pytest.MonkeyPatch, parser: str
) -> None:
    # How fast is measured by bench/ (figures, not timed tests); this checks what it loads.
    if parser == "c" and not yaml.__with_libyaml__:
        pytest.skip("PyYAML without libyaml")
    monkeypatch.setattr(yamlload, "PARSER", parser)
    path = write("assets.yaml", _asset_file(2000))
    state = load_manifests([path], {})
    assert len(state.of("asset")) == 2000
    assert isinstance(state.of("asset")[-1], AssetSpec)
    assert state.of("asset")[-1].fields["video_thumb_sec"] == 1999 % 60
    assert state.of("asset")[-1].fields["tags"] == frozenset({"launch", "cars", "t49"})
