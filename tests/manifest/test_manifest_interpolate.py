"""${NAME}, ${NAME:-default} and $${ in string values."""

from __future__ import annotations

import pytest

from cincopa_sync.errors import InvalidInput
from cincopa_sync.manifest import load_manifests
from cincopa_sync.manifest.interpolate import expand


@pytest.mark.parametrize(
    ("value", "env", "expected"),
    [
        ("${A}", {"A": "x"}, "x"),
        ("pre-${A}-post", {"A": "x"}, "pre-x-post"),
        ("${A}${B}", {"A": "1", "B": "2"}, "12"),
        ("${A}", {"A": ""}, ""),
        ("${A:-fallback}", {}, "fallback"),
        ("${A:-fallback}", {"A": ""}, "fallback"),
        ("${A:-fallback}", {"A": "set"}, "set"),
        ("${A:-}", {}, ""),
        ("${A:-with spaces: and colons}", {}, "with spaces: and colons"),
        ("$${A}", {}, "${A}"),
        ("$${", {}, "${"),
        ("price: $5 and $$", {}, "price: $5 and $$"),
        ("$A", {"A": "x"}, "$A"),
        ("a$${B}c${B}", {"B": "b"}, "a${B}cb"),
        ("${_under_score9}", {"_under_score9": "ok"}, "ok"),
    ],
)
def test_expand(value: str, env: dict[str, str], expected: str) -> None:
    assert expand(value, env) == (expected, [])


def test_expand_lists_every_missing_name_once() -> None:
    result, errors = expand("${A} ${B} ${A} ${C:-c}", {})
    assert errors == ["missing environment variable A", "missing environment variable B"]
    assert result == "${A} ${B} ${A} c"


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("${", "unterminated '${' (write '$${' for a literal '${')"),
        ("abc ${NAME", "unterminated '${' (write '$${' for a literal '${')"),
        ("${1A}", "invalid variable reference '${1A}' (write ${NAME} or ${NAME:-default})"),
        ("${}", "invalid variable reference '${}' (write ${NAME} or ${NAME:-default})"),
        ("${A B}", "invalid variable reference '${A B}' (write ${NAME} or ${NAME:-default})"),
        ("${A-b}", "invalid variable reference '${A-b}' (write ${NAME} or ${NAME:-default})"),
    ],
)
def test_expand_errors(value: str, error: str) -> None:
    assert expand(value, {"A": "x", "NAME": "y"})[1] == [error]


def test_values_are_interpolated_keys_are_not(parser: str, write) -> None:
    path = write(
        "m.yaml",
        "portals:\n"
        "  - subdomain: ${SUB}\n"
        "    settings:\n"
        "      ${KEY}: ${VALUE}\n"
        "      literal: $${NOT_A_VAR}\n",
    )
    state = load_manifests([path], {"SUB": "acme", "KEY": "k", "VALUE": "v"})
    portal = state.of("portal")[0]
    assert portal.subdomain == "acme"
    assert dict(portal.fields["settings"]) == {"${KEY}": "v", "literal": "${NOT_A_VAR}"}


def test_interpolated_values_are_strings(parser: str, write, problems_of) -> None:
    path = write("m.yaml", "assets:\n  - rid: A1\n    video_thumb_sec: ${SEC}\n")
    assert problems_of([path], {"SEC": "15"}) == [
        f"{path}:3:22: video_thumb_sec must be an integer, got string '15' (from ${{SEC}}: "
        "interpolation always gives text, so a variable cannot give an integer; write the "
        "value itself)"
    ]


def test_every_missing_variable_of_every_file_is_listed(parser: str, write) -> None:
    first = write(
        "a.yaml",
        "webhooks:\n"
        "  - url: https://hooks.example.com/${HOOK_PATH}\n"
        "    events: [asset.updated]\n"
        "    security_key: ${CINCOPA_HOOK_KEY}\n",
    )
    second = write(
        "b.yaml",
        "webhooks:\n  - url: ${SLACK_WEBHOOK_URL}\n    type: slack\n    events: [asset.*]\n",
    )
    with pytest.raises(InvalidInput) as caught:
        load_manifests([first, second], {})
    # A security key is only sent, never compared: its variable may be unset (a warning).
    assert [str(p) for p in caught.value.problems] == [
        f"{first}:2:10: missing environment variable HOOK_PATH",
        f"{first}:4:19: warning: missing environment variable CINCOPA_HOOK_KEY (for "
        "security_key: a plan does without it, as it cannot be compared; apply needs it to "
        "write this entry)",
        f"{second}:2:10: missing environment variable SLACK_WEBHOOK_URL",
    ]


def test_a_secret_value_is_never_in_a_message(parser: str, write) -> None:
    path = write(
        "m.yaml",
        "webhooks:\n"
        "  - url: https://hooks.example.com/a\n"
        "    events: [asset.updated]\n"
        "    security_key: 123456789\n"
        "  - url: ${SLACK}\n"
        "    type: slack\n"
        "    events: [asset.*]\n"
        "  - url: ${SLACK}\n"
        "    type: slack\n"
        "    events: [asset.*]\n",
    )
    slack = "https://hooks.slack.com/services/T0/B0/TOPSECRET"
    with pytest.raises(InvalidInput) as caught:
        load_manifests([path], {"SLACK": slack})
    text = str(caught.value)
    assert "123456789" not in text
    assert "TOPSECRET" not in text
    assert f"{path}:4:19: security_key must be a string, got an integer (quote it)" in text
    assert "webhook url https://hooks.slack.com/(sensitive:" in text


def test_defaulted_names_are_the_references_whose_default_was_taken() -> None:
    from cincopa_sync.manifest.interpolate import defaulted_names

    raw = "${A:-x}-${B:-y}-${C}-$${D:-z}-${E:-}"
    assert defaulted_names(raw, {"A": "set", "B": ""}) == ["B", "E"]
    assert defaulted_names("plain", {}) == []
