"""The manifest reference's main example is a valid manifest (it once broke its own rule
that a portal name appears once across subdomain and previously)."""

from __future__ import annotations

import re
from pathlib import Path

from support import invoke

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_the_manifest_references_example_validates(tmp_path: Path) -> None:
    text = (DOCS / "manifest.md").read_text(encoding="utf-8")
    example = re.search(r"```yaml\n(.*?)```", text, re.DOTALL)
    assert example is not None
    (tmp_path / "example.yaml").write_text(example.group(1), encoding="utf-8")
    env = {"CINCOPA_HOOK_KEY": "k", "SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T/B/x"}
    result = invoke("validate", str(tmp_path), env=env)
    assert result.exit_code == 0, result.output
    assert "4 asset(s), 2 portal(s), 2 webhook(s)" in result.output
