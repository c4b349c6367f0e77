"""The emulator is written from the contract: it must not import the client."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import cincopa_sync.emulator as package

ALLOWED_TOP_LEVEL = {"httpx"}


def imported_modules(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(0, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append((node.level, node.module or ""))
    return found


def test_emulator_imports_only_itself_httpx_and_the_standard_library() -> None:
    files = sorted(Path(package.__file__).parent.glob("*.py"))
    assert len(files) >= 8
    offenders = []
    for path in files:
        for level, module in imported_modules(path):
            top = module.split(".")[0]
            if level > 1 or (level == 0 and top == "cincopa_sync"):
                offenders.append(f"{path.name}: {'.' * level}{module}")
            elif level == 0 and top not in ALLOWED_TOP_LEVEL | set(sys.stdlib_module_names):
                offenders.append(f"{path.name}: {module}")
    assert offenders == []


def test_handle_tolerates_non_string_params() -> None:
    em = package.Emulator({"assets": [{"rid": f"r{i}"} for i in range(5)]}, page_cap=2)
    reply = em.handle("get", "/v2/asset.list.json", {"api_token": "emulator-token", "page": 3})
    assert reply.status == 200
    assert [i["rid"] for i in reply.json()["items"]] == ["r4"]
    assert em.calls[0].method == "GET"
    assert em.calls[0].params == {"page": "3"}
