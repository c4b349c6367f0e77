from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from rich_case import ENV, RICH

from cincopa_sync.plan import Plan


@pytest.fixture
def rich_plan(make_plan: Callable[..., Plan], monkeypatch: pytest.MonkeyPatch) -> Plan:
    monkeypatch.chdir(RICH)  # locations in the renderings read manifest.yaml:L:C
    live = json.loads((RICH / "live.json").read_text(encoding="utf-8"))
    return make_plan(["manifest.yaml"], live, env=ENV)
