"""`--emulator`: a throw-away local emulator, and which token it is given."""

from __future__ import annotations

from click.testing import CliRunner

from cincopa_sync.cli import cli


def ping(token: str):
    return CliRunner().invoke(cli, ["ping", "--emulator"], env={"CINCOPA_API_TOKEN": token})


def test_a_real_token_in_the_environment_is_never_sent_to_the_emulator():
    result = ping("real-production-token")
    assert result.exit_code == 0, result.output
    assert "real-production-token" not in result.output
    assert "asset.*" in result.stdout  # served with emulator-token, the full one


def test_the_emulators_own_tokens_are_honoured():
    result = ping("emulator-readonly")
    assert result.exit_code == 0, result.output
    assert "asset.read" in result.stdout and "asset.*" not in result.stdout
