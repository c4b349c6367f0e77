"""`--emulator`: a throw-away local emulator, and which token it is given."""

from __future__ import annotations

from support import invoke


def ping(token: str):
    return invoke("ping", "--emulator", env={"CINCOPA_API_TOKEN": token})


def test_a_real_token_in_the_environment_is_never_sent_to_the_emulator():
    result = ping("real-production-token")
    assert result.exit_code == 0, result.output
    assert "real-production-token" not in result.output
    assert "asset.*" in result.stdout  # served with emulator-token, the full one


def test_the_emulators_own_tokens_are_honoured():
    result = ping("emulator-readonly")
    assert result.exit_code == 0, result.output
    assert "asset.read" in result.stdout and "asset.*" not in result.stdout


def test_the_emulator_command_serves_the_demo_account_to_any_http_client():
    import json
    import subprocess
    import sys
    import urllib.request
    from pathlib import Path

    seed = Path(__file__).resolve().parents[2] / "examples" / "emulator" / "demo-account.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "cincopa_sync", "emulator", "--seed", str(seed), "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        assert "serving http://127.0.0.1:" in line, line
        base = line.split("serving ", 1)[1].split(" ", 1)[0]
        url = base + "asset.list.json?api_token=emulator-token&items_per_page=100"
        with urllib.request.urlopen(url, timeout=10) as response:
            body = json.load(response)
        assert body["success"] is True
        assert body["items_data"]["items_count"] == len(json.loads(seed.read_text())["assets"])
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_a_bad_fault_spec_is_invalid_input():
    result = invoke("emulator", "--faults", "asset.list=teapot")
    assert result.exit_code == 3
    assert "teapot" in result.stderr


def test_the_emulator_command_serves_the_demo_by_default_and_ctrl_c_is_exit_130():
    """The same account as --emulator without any flag; Ctrl-C ends it as interrupted."""
    import json
    import signal
    import subprocess
    import sys
    import urllib.request
    from pathlib import Path

    seed = Path(__file__).resolve().parents[2] / "examples" / "emulator" / "demo-account.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "cincopa_sync", "emulator", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        base = line.split("serving ", 1)[1].split(" ", 1)[0]
        url = base + "asset.list.json?api_token=emulator-token&items_per_page=100"
        with urllib.request.urlopen(url, timeout=10) as response:
            body = json.load(response)
        assert body["items_data"]["items_count"] == len(json.loads(seed.read_text())["assets"])
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 130
        assert "interrupted" in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def test_seed_and_empty_exclude_each_other():
    result = invoke("emulator", "--empty", "--seed", __file__)
    assert result.exit_code == 3
    assert "--seed FILE or --empty" in result.stderr
