"""Environments end to end: examples/environments (a config, a base, two overlays) against
two emulators with different account ids, the account pin, saved plans made for one
account, vars and API-base precedence, --overlay without a config, and a config with every
kind of mistake."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import Result
from support import REPO, Served, serving

from cincopa_sync.cli import cli

EXAMPLE = REPO / "examples" / "environments"
HOOK_KEY = "demo-key-not-secret"
ACCOUNTS = {"production": "200001", "staging": "300001"}
Run = Callable[..., Result]


@dataclass
class Setup:
    root: Path  # a copy of examples/environments, its api_url lines pointing at `accounts`
    accounts: dict[str, Served]  # environment name -> its emulator

    @property
    def config(self) -> Path:
        return self.root / "cincopa-sync.yaml"

    @property
    def env(self) -> dict[str, str]:
        return {"CINCOPA_API_TOKEN": "emulator-token", "CINCOPA_HOOK_KEY": HOOK_KEY}

    def run(self, run: Run, *args: object, env: dict[str, str | None] | None = None) -> Result:
        """The command with this config when it names an environment."""
        config = ["--config", self.config] if "--env" in args else []
        return run(*args, *config, env={**self.env, **(env or {})})


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    root = tmp_path / "environments"
    shutil.copytree(EXAMPLE, root)
    seeds = {
        name: json.loads((root / "emulator" / f"{name}.json").read_text()) for name in ACCOUNTS
    }
    with serving(seeds["production"]) as production, serving(seeds["staging"]) as staging:
        accounts = {"production": production, "staging": staging}
        text = (root / "cincopa-sync.yaml").read_text()
        for name, port in (("production", 8301), ("staging", 8302)):
            text = text.replace(f"http://127.0.0.1:{port}/v2/", accounts[name].url)
        (root / "cincopa-sync.yaml").write_text(text)
        yield Setup(root, accounts)


def plan_json(setup: Setup, run: Run, name: str) -> dict:
    result = setup.run(run, "plan", "--env", name, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_each_environment_plans_and_applies_its_own_layers_on_its_own_account(
    setup: Setup, run: Run, writes_equal_plan, plan_schema
) -> None:
    production, staging = plan_json(setup, run, "production"), plan_json(setup, run, "staging")
    for name, plan in (("production", production), ("staging", staging)):
        assert list(plan_schema.iter_errors(plan)) == []
        host = setup.accounts[name].url.split("/")[2]
        assert plan["context"] == {
            "environment": name,
            "account": ACCOUNTS[name],
            "api_host": host,
        }
    changes = {name: {c["address"]: c for c in plan["changes"]} for name, plan in
               (("production", production), ("staging", staging))}  # fmt: skip
    assert sorted(changes["production"]) == [
        "asset.ref:SKU-1",  # the overlay's tag set, and the base's caption
        "portal.acme-promo-2025",  # production prunes portals
        "portal.acme-videos",  # settings.analytics from the overlay, merged into the base's
    ]
    assert changes["production"]["portal.acme-promo-2025"]["action"] == "delete"
    assert [f["field"] for f in changes["production"]["portal.acme-videos"]["fields"]] == [
        "settings"
    ]
    assert sorted(changes["staging"]) == [
        "asset.ref:SKU-1",
        "asset.ref:SKU-2",
        "portal.acme-sandbox",  # only staging's overlay names it
        "portal.acme-videos-staging",  # ${PORTAL} from staging's vars
        "webhook.https://hooks.example.com/cincopa",
    ]
    created = changes["staging"]["portal.acme-videos-staging"]["fields"]
    assert {f["field"]: f["after"] for f in created}["visibility"] == "private"
    # Each change names the entry of the latest layer that wrote one of its differing fields.
    root = setup.root
    where = {name: {a: c["location"] for a, c in found.items()} for name, found in changes.items()}
    assert where["production"]["asset.ref:SKU-1"] == f"{root}/production/overrides.yaml:4:5"
    assert where["staging"]["asset.ref:SKU-1"] == f"{root}/base/assets.yaml:4:5"
    hook = "webhook.https://hooks.example.com/cincopa"
    assert where["staging"][hook] == f"{root}/staging/overrides.yaml:9:5"

    for name, plan in (("production", production), ("staging", staging)):
        served, other = setup.accounts[name], setup.accounts[next(n for n in ACCOUNTS if n != name)]
        served.emulator.clear_log()
        other.emulator.clear_log()
        applied = setup.run(run, "apply", "--env", name, "--auto-approve")
        assert applied.exit_code == 0, applied.stderr
        assert applied.stdout.startswith(
            f"Plan for environment {name}: account {ACCOUNTS[name]} at "
        )
        writes_equal_plan(plan, served.writes(), set())
        assert other.emulator.calls == []  # nothing reached the other account
        again = setup.run(run, "plan", "--env", name, "--detailed-exitcode")
        assert again.exit_code == 0, again.stdout
        assert "No changes." in again.stdout


def commands_with_env() -> list[str]:
    """Every command that reaches the account and takes --env (doctor too, once it is in)."""
    found = []
    for name, command in sorted(cli.commands.items()):
        params = {p.name for p in command.params}
        if {"env_name", "api_url"} <= params:
            found.append(name)
    return found


EXTRA = {"apply": ["--auto-approve"], "export": ["--out", "{tmp}/export"]}


@pytest.mark.parametrize("command", commands_with_env())
def test_the_pin_refuses_another_account_with_only_ping_called(
    setup: Setup, run: Run, command: str, tmp_path: Path
) -> None:
    staging = setup.accounts["staging"]
    extra = [a.replace("{tmp}", str(tmp_path)) for a in EXTRA.get(command, [])]
    result = setup.run(run, command, "--env", "production", *extra, "--api-url", staging.url)
    assert result.exit_code == 4, result.stdout + result.stderr
    assert (
        "error: the token opens account 300001, but environment production is for account "
        "200001: nothing else was called" in result.stderr
    )
    assert [c.endpoint for c in staging.emulator.calls] == ["ping"]
    assert setup.accounts["production"].emulator.calls == []
    assert not (tmp_path / "export").exists()


def test_the_pinned_commands_are_those_that_read_the_account() -> None:
    assert {"plan", "apply", "export", "ping"} <= set(commands_with_env())


def test_a_saved_plan_is_refused_on_another_account(setup: Setup, run: Run, tmp_path: Path) -> None:
    saved = tmp_path / "staging.json"
    made = setup.run(run, "plan", "--env", "staging", "--out", saved)
    assert made.exit_code == 0, made.stderr
    body = json.loads(saved.read_text())
    assert (body["environment"], body["account"]) == ("staging", "300001")
    staging = setup.accounts["staging"]

    # Asked for another environment: refused before any call.
    staging.emulator.clear_log()
    other = setup.run(run, "apply", "--plan", saved, "--env", "production", "--api-url",
                      staging.url)  # fmt: skip
    assert other.exit_code == 4
    assert "the plan was made for environment staging, not for environment production" in (
        other.stderr
    )
    assert staging.emulator.calls == []

    # The same API now opens another account (another token, say): refused after ping.
    staging.emulator.account.info["accid"] = "999999"
    for args in (["--api-url", staging.url], ["--env", "staging"]):
        staging.emulator.clear_log()
        refused = setup.run(run, "apply", "--plan", saved, *args)
        assert refused.exit_code == 4, refused.stderr
        assert re.search(r"the token opens account 999999, but .* account 300001", refused.stderr)
        assert [c.endpoint for c in staging.emulator.calls] == ["ping"]

    staging.emulator.account.info["accid"] = "300001"
    staging.emulator.clear_log()
    applied = setup.run(run, "apply", "--plan", saved, "--env", "staging")
    assert applied.exit_code == 0, applied.stderr
    assert applied.stdout.startswith("Plan for environment staging: account 300001 at ")
    assert [c.endpoint for c in staging.emulator.calls][:1] == ["ping"]
    assert sum(c.endpoint == "ping" for c in staging.emulator.calls) == 1
    again = setup.run(run, "plan", "--env", "staging", "--detailed-exitcode")
    assert again.exit_code == 0, again.stdout


def test_vars_beat_the_process_environment_and_secrets_come_only_from_it(
    setup: Setup, run: Run
) -> None:
    # PORTAL in the process environment does not win over staging's vars.
    plan = setup.run(run, "plan", "--env", "staging", "--format", "json",
                     env={"PORTAL": "from-the-shell"})  # fmt: skip
    assert plan.exit_code == 0, plan.stderr
    addresses = [c["address"] for c in json.loads(plan.stdout)["changes"]]
    assert "portal.acme-videos-staging" in addresses
    assert not any("from-the-shell" in a for a in addresses)
    # A name vars do not set comes from the process environment: the hook's key here.
    # (A security key is only needed to be sent: plan warns, apply would stop.)
    missing = setup.run(run, "plan", "--env", "staging", env={"CINCOPA_HOOK_KEY": None})
    assert missing.exit_code == 0, missing.stderr
    assert "/base/webhooks.yaml:6:19: missing environment variable CINCOPA_HOOK_KEY" in (
        missing.stdout
    )
    # A secret may not come from vars, even when the process environment has it too.
    text = setup.config.read_text().replace(
        "      PORTAL: acme-videos-staging\n",
        "      PORTAL: acme-videos-staging\n      CINCOPA_HOOK_KEY: written-in-the-repo\n",
    )
    setup.config.write_text(text)
    refused = setup.run(run, "validate", "--env", "staging")
    assert refused.exit_code == 3
    assert refused.stderr.startswith(
        f"{setup.root}/base/webhooks.yaml:4:5: a secret of this entry reads CINCOPA_HOOK_KEY, "
        "which the environment's vars set: secrets come only from the process environment"
    )
    assert "written-in-the-repo" not in refused.stderr
    assert setup.run(run, "validate", "--env", "production").exit_code == 0


def test_the_api_base_comes_from_the_flag_then_the_environment_then_the_variable(
    setup: Setup, run: Run
) -> None:
    production, staging = setup.accounts["production"], setup.accounts["staging"]
    # The environment's api_url beats CINCOPA_API_URL.
    result = setup.run(run, "ping", "--env", "staging", env={"CINCOPA_API_URL": production.url})
    assert result.exit_code == 0, result.stderr
    assert f"account 300001 (video-staging@acme.example) at {staging.url}" in result.stdout
    assert production.emulator.calls == []
    # --api-url beats the environment's api_url (here: the other account, so the pin says no).
    result = setup.run(run, "ping", "--env", "staging", "--api-url", production.url)
    assert result.exit_code == 4 and "opens account 200001" in result.stderr
    # Without an api_url in the environment, CINCOPA_API_URL is used.
    text = setup.config.read_text().replace(f"    api_url: {staging.url}\n", "")
    setup.config.write_text(text)
    result = setup.run(run, "ping", "--env", "staging", env={"CINCOPA_API_URL": staging.url})
    assert result.exit_code == 0, result.stderr
    assert f"at {staging.url}" in result.stdout


def test_the_config_in_the_current_directory_is_the_default(
    setup: Setup, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(setup.root)
    result = run("validate", "--env", "staging", env=setup.env)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        "valid: environment staging, 4 file(s) in 2 layers, 2 asset(s), 2 portal(s), 1 webhook(s)\n"
    )
    monkeypatch.chdir(setup.root / "base")
    missing = run("validate", "--env", "staging", env=setup.env)
    assert missing.exit_code == 3
    assert "there is no cincopa-sync.yaml in the current directory" in missing.stderr


def test_overlay_without_a_config(setup: Setup, run: Run) -> None:
    staging = setup.accounts["staging"]
    root = setup.root
    env = {**setup.env, "PORTAL": "from-env", "PORTAL_NAME": "From env"}
    result = run("plan", root / "base", "--overlay", root / "staging", "--format", "json",
                 *staging.args, env=env)  # fmt: skip
    assert result.exit_code == 0, result.stderr
    plan = json.loads(result.stdout)
    assert plan["context"]["environment"] is None and plan["context"]["account"] == "300001"
    by_address = {c["address"]: c for c in plan["changes"]}
    assert {"portal.from-env", "portal.acme-sandbox"} <= set(by_address)
    assert by_address["portal.from-env"]["location"] == f"{root}/staging/overrides.yaml:4:5"
    assert "Plan for account 300001 at " in run("plan", root / "base", "--overlay",
        root / "staging", *staging.args, env=env).stdout  # fmt: skip
    validated = run("validate", root / "base", "--overlay", root / "production", env=env)
    assert validated.exit_code == 0, validated.stderr
    assert validated.stdout.startswith("valid: 4 file(s) in 2 layers,")


def test_arguments_that_do_not_go_together(setup: Setup, run: Run) -> None:
    cases = {
        ("validate", "--env", "staging", str(setup.root / "base")): "give manifest PATHs or "
        "--env staging, not both",
        ("validate",): "give manifest PATHs, or --env NAME",
        ("apply",): "give manifest PATHs, --env NAME, or --plan FILE",
        ("apply", "--plan", "x.json", "--overlay", "y"): "give manifest PATHs (and --overlay), "
        "or --plan FILE, not both",
        ("plan", "--env", "prod"): "no environment 'prod'; its environments are: production, "
        "staging",
    }
    for args, message in cases.items():
        result = setup.run(run, *args)
        assert result.exit_code == 3, args
        assert message in result.stderr, (args, result.stderr)
    alone = run("validate", "--config", setup.config, str(setup.root / "base"), env=setup.env)
    assert alone.exit_code == 3 and "--config needs --env NAME" in alone.stderr
    for served in setup.accounts.values():
        assert served.emulator.calls == []


BROKEN = """\
version: 2
environments:
  production:
    manifests: [base, missing, base, 3]
    account: 12345
    api_url: ftp://example.com/
    vars: {PORTAL: acme, "bad-name": x, CINCOPA_API_TOKEN: t, N: 5}
    acount: x
  "bad name":
    manifests: []
  staging:
    manifests: [base]
    account: "${ACCOUNT}"
    api_url: "https://api.example.com/v2/?api_token=abc"
  qa: [base]
extra: 1
"""
BROKEN_PROBLEMS = """\
cincopa-sync.yaml:1:10: version must be 1, got 2
cincopa-sync.yaml:4:23: manifests[1] missing: no such file or directory
cincopa-sync.yaml:4:32: manifests[2] 'base' is listed twice
cincopa-sync.yaml:4:38: environments.production.manifests[3] must be a string, got integer 3 \
(quote it: "3")
cincopa-sync.yaml:5:14: environments.production.account must be a string, got integer 12345 \
(quote it: "12345")
cincopa-sync.yaml:6:14: api_url must be an http:// or https:// URL
cincopa-sync.yaml:7:26: variable name 'bad-name' is not valid: it must be a variable name: \
letters, digits and '_', not starting with a digit
cincopa-sync.yaml:7:41: CINCOPA_API_TOKEN cannot be a var: the token comes from the process \
environment only
cincopa-sync.yaml:7:66: environments.production.vars.N must be a string, got integer 5 \
(quote it: "5")
cincopa-sync.yaml:8:5: unknown key 'acount' in environments.production (did you mean 'account'?)
cincopa-sync.yaml:9:3: environment name 'bad name' is not valid: it must be an environment \
name: letters, digits, '.', '_' and '-', starting with a letter or digit
cincopa-sync.yaml:10:5: environments.bad name is missing the required key 'account'
cincopa-sync.yaml:10:16: environments.bad name.manifests must not be empty
cincopa-sync.yaml:13:14: the config is not interpolated: write the value itself, not a ${...} \
reference
cincopa-sync.yaml:14:14: api_url must not have a query string (the token comes from \
CINCOPA_API_TOKEN)
cincopa-sync.yaml:15:7: environments.qa must be a mapping, got a list
cincopa-sync.yaml:16:1: unknown top-level key 'extra'
17 error(s) in 1 file(s)"""


def test_a_config_with_every_kind_of_mistake_lists_them_all(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "base").mkdir()
    (tmp_path / "cincopa-sync.yaml").write_text(BROKEN, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    for command in ("validate", "plan", "ping"):
        result = run(command, "--env", "staging")
        assert result.exit_code == 3
        assert result.stdout == ""
        assert result.stderr.startswith(BROKEN_PROBLEMS)  # then what was not done, if anything
        assert result.stderr.count("\n") == BROKEN_PROBLEMS.count("\n") + 1
        assert "abc" not in result.stderr  # the query's value is never shown


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("environments:\n  a: {manifests: [x], account: '1'}\n  a: {}\n", "duplicate key"),
        ("base: &b {manifests: [x]}\nenvironments: {a: *b}\n", "anchor"),
        ("environments: {}\n", "environments must name at least one environment"),
        ("", "the config is missing the required key 'environments'"),
        ("- a\n", "the config must be a mapping, got a list"),
        ("environments: !!python/object {}\n", "tag"),
    ],
)
def test_the_config_is_read_as_strictly_as_a_manifest(
    run: Run, tmp_path: Path, text: str, problem: str
) -> None:
    (tmp_path / "x").mkdir()
    config = tmp_path / "c.yaml"
    config.write_text(text, encoding="utf-8")
    result = run("validate", "--env", "a", "--config", config)
    assert result.exit_code == 3
    assert re.search(rf"^{re.escape(str(config))}:\d+:\d+: .*{re.escape(problem)}", result.stderr,
                     re.M | re.I), result.stderr  # fmt: skip


def test_plan_base_resolves_the_environments_layers_in_the_base_checkout(
    setup: Setup, run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--env with --base: the environment's layers, found again under the base checkout."""
    base = tmp_path / "base-checkout"
    shutil.copytree(setup.root, base)
    portals = setup.root / "base" / "portals.yaml"
    text = portals.read_text()
    assert "name: ${PORTAL_NAME}" in text
    portals.write_text(text.replace("name: ${PORTAL_NAME}", "name: ${PORTAL_NAME} (new)"))
    monkeypatch.chdir(setup.root)
    result = setup.run(run, "plan", "--env", "staging", "--base", base, "--format", "json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    origins = {c["address"]: c["origin"] for c in document["changes"]}
    assert origins.pop("portal.acme-videos-staging") == "change"  # this pull request's edit
    assert origins and set(origins.values()) == {"drift"}  # the rest: the account differs
