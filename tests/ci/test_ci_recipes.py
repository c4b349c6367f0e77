"""The CI recipes: valid YAML, and every cincopa-sync command line in them (and in the
shell blocks of docs/ci.md) uses only commands, flags and choices that `--help` lists."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
import yaml
from support import REPO, invoke

from cincopa_sync.cli import cli

GITHUB = REPO / "examples" / "ci" / "github-actions.yml"
GITLAB = REPO / "examples" / "ci" / "gitlab-ci.yml"
DOC = REPO / "docs" / "ci.md"
HOOKS = REPO / ".pre-commit-hooks.yaml"
OPERATORS = {"|", "||", "&&", ";", "(", ")", "&", ">", ">>", "<", "$("}
OPTION = re.compile(r"(?<![\w-])(--?[a-zA-Z][\w-]*)")
CHOICE = re.compile(r"(--[\w-]+) \[([\w|-]+)\]")


# -- where the command lines are -------------------------------------------------------


def github_scripts(doc: dict) -> Iterator[str]:
    for job in doc["jobs"].values():
        for step in job.get("steps", []):
            if "run" in step:
                yield step["run"]


def gitlab_scripts(doc: dict) -> Iterator[str]:
    for _name, job in doc.items():
        if not isinstance(job, dict):
            continue
        for key in ("before_script", "script", "after_script"):
            yield from job.get(key, [])


def doc_scripts(text: str) -> Iterator[str]:
    yield from re.findall(r"```(?:sh|bash|console)\n(.*?)```", text, re.DOTALL)


def invocations(script: str) -> Iterator[list[str]]:
    """The argument lists of each `cincopa-sync ...` command in a shell script."""
    script = script.replace("\\\n", " ")
    for line in script.splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        lexer.commenters = "#"
        tokens = list(lexer)
        for i, token in enumerate(tokens):
            before = tokens[:i]
            starts = not before or before[-1] in OPERATORS or before[-1].endswith("$(")
            starts = starts or all("=" in t and not t.startswith("-") for t in before)
            if token == "cincopa-sync" and starts:
                args = []
                for arg in tokens[i + 1 :]:
                    if arg in OPERATORS or set(arg) <= set("<>|&;()"):
                        break
                    args.append(arg)
                yield args


def recipe_invocations() -> list[tuple[str, list[str]]]:
    found = []
    github = yaml.safe_load(GITHUB.read_text(encoding="utf-8"))
    for script in github_scripts(github):
        found += [("github-actions.yml", args) for args in invocations(script)]
    gitlab = yaml.safe_load(GITLAB.read_text(encoding="utf-8"))
    for script in gitlab_scripts(gitlab):
        found += [("gitlab-ci.yml", args) for args in invocations(script)]
    for script in doc_scripts(DOC.read_text(encoding="utf-8")):
        found += [("docs/ci.md", args) for args in invocations(script)]
    return found


# -- what --help says ---------------------------------------------------------------------


@cache
def help_of(command: str) -> str:
    result = invoke(command, "--help")
    assert result.exit_code == 0, f"{command} --help: {result.output}"
    return result.output


def problems_of(args: list[str]) -> list[str]:
    """What in one command line `--help` does not list: the command, a flag, a choice."""
    if not args or args[0] not in cli.commands:
        return [f"unknown command {args[:1]}"]
    command, rest = args[0], args[1:]
    text = help_of(command)
    listed = set(OPTION.findall(text))
    choices = {flag: set(values.split("|")) for flag, values in CHOICE.findall(text)}
    problems = []
    for n, arg in enumerate(rest):
        if not arg.startswith("-"):
            continue
        flag, _, inline = arg.partition("=")
        if flag not in listed:
            problems.append(f"{command} {flag}")
        elif flag in choices:
            value = inline or (rest[n + 1] if n + 1 < len(rest) else "")
            if value not in choices[flag]:
                problems.append(f"{command} {flag} {value}")
    return problems


# -- the tests ----------------------------------------------------------------------------


def test_the_workflow_files_are_valid_yaml_of_the_expected_shape() -> None:
    github = yaml.safe_load(GITHUB.read_text(encoding="utf-8"))
    assert set(github["jobs"]) == {"plan", "apply"}
    triggers = github.get("on", github.get(True))  # YAML 1.1 reads a bare `on` as true
    assert "pull_request" in triggers
    gitlab = yaml.safe_load(GITLAB.read_text(encoding="utf-8"))
    assert {"validate", "plan", "apply"} <= set(gitlab)
    hooks = yaml.safe_load(HOOKS.read_text(encoding="utf-8"))
    (hook,) = hooks
    assert hook["id"] == "cincopa-sync-validate"
    assert hook["entry"] == "cincopa-sync validate"
    assert re.search(hook["files"], "manifests/assets-001.yaml")
    assert not re.search(hook["files"], "src/app.py")


def test_the_recipes_plan_in_markdown_against_the_base_save_the_plan_and_apply_it() -> None:
    for name in ("github-actions.yml", "gitlab-ci.yml"):
        lines = [args for where, args in recipe_invocations() if where == name]
        (plan,) = [a for a in lines if a[0] == "plan"]
        assert plan[plan.index("--format") + 1] == "markdown", name
        assert "--out" in plan and "--base" in plan, name
        assert ["apply", "--plan", "plan.json", "--report", "report.json"] in lines, name
        assert ["show", "plan.json"] in lines, name
    # GitHub: plan validates first, and an invalid manifest still gets its comment
    gitlab = [args for where, args in recipe_invocations() if where == "gitlab-ci.yml"]
    assert any(a[0] == "validate" for a in gitlab)


def test_the_recipes_install_from_the_repository_not_the_package_index() -> None:
    for path in (GITHUB, GITLAB):
        text = path.read_text(encoding="utf-8")
        assert "cincopa-sync==" not in text, path.name
        assert 'CINCOPA_SYNC_PACKAGE: "git+https://' in text, path.name
        assert 'pip install "$CINCOPA_SYNC_PACKAGE"' in text, path.name


def test_a_label_lets_the_plan_job_record_allow_deletes() -> None:
    github = yaml.safe_load(GITHUB.read_text(encoding="utf-8"))
    triggers = github.get("on", github.get(True))
    assert {"labeled", "unlabeled"} <= set(triggers["pull_request"]["types"])
    (plan_step,) = [s for s in github["jobs"]["plan"]["steps"] if s.get("name") == "Plan"]
    assert "env.ALLOW_DELETES_LABEL" in plan_step["env"]["ALLOW_DELETES"]
    assert 'allow="--allow-deletes"' in plan_step["run"] and "$allow" in plan_step["run"]
    gitlab = GITLAB.read_text(encoding="utf-8")
    assert "$CI_MERGE_REQUEST_LABELS" in gitlab and 'allow="--allow-deletes"' in gitlab


def test_the_parser_finds_what_it_must(tmp_path: Path) -> None:
    script = (
        "python -m pip install cincopa-sync==0.1.0\n"
        'X=1 cincopa-sync plan "$M" --format markdown > plan.md  # comment --nope\n'
        "echo cincopa-sync ping\n"
        "run=$(cincopa-sync ping --bogus) && cincopa-sync validate a \\\n  b\n"
    )
    assert list(invocations(script)) == [
        ["plan", "$M", "--format", "markdown"],
        ["ping", "--bogus"],
        ["validate", "a", "b"],
    ]
    assert problems_of(["ping", "--bogus"]) == ["ping --bogus"]
    assert problems_of(["plan", "x", "--format", "yaml"]) == ["plan --format yaml"]
    assert problems_of(["frobnicate"]) == ["unknown command ['frobnicate']"]


@pytest.mark.parametrize(
    ("where", "args"), recipe_invocations(), ids=lambda v: v if isinstance(v, str) else " ".join(v)
)
def test_every_command_line_uses_only_what_help_lists(where: str, args: list[str]) -> None:
    assert problems_of(args) == [], f"{where}: cincopa-sync {' '.join(args)}"


def test_docs_mention_the_step_summary_and_the_editor_line() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert "GITHUB_STEP_SUMMARY" in text
    assert "# yaml-language-server: $schema=" in text
    assert "schemas/manifest.schema.json" in text
    assert (REPO / "schemas" / "manifest.schema.json").exists()
