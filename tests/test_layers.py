"""The layers of docs/architecture.md, checked: each part of the package imports only
what its row allows (imports made for type checking only included)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "cincopa_sync"

# part -> the parts it may import (a part is a top-level module or a folder).
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "shown": set(),
    "resources": set(),
    "schemacheck": set(),
    "files": {"errors"},
    "api": {"errors", "shown", "resources", "schemacheck"},
    "plan": {"api", "errors", "shown"},
    "kinds": {"api", "plan", "errors", "shown", "manifest.yamlwrite", "manifest.semantic"},
    "manifest": {"kinds", "errors", "shown", "files", "resources", "schemacheck"},
    "engine": {"api", "kinds", "manifest", "plan", "errors", "shown", "files", "resources"},
    "render": {"plan", "kinds", "shown", "errors", "engine.apply"},
    "cli": {"*"},
    "emulator": set(),
    "__init__": set(),
    "__main__": {"cli"},
}


def _part(module: str) -> str:
    """cincopa_sync.engine.read -> engine; cincopa_sync.plan -> plan."""
    return module.split(".")[1] if module.count(".") else "__init__"


def _is_part(name: str) -> bool:
    return (PACKAGE / name).is_dir() or (PACKAGE / f"{name}.py").is_file()


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "cincopa_sync":  # a submodule, or a name of the package root
                found |= {
                    f"cincopa_sync.{alias.name}" if _is_part(alias.name) else "cincopa_sync"
                    for alias in node.names
                }
            elif node.module.startswith("cincopa_sync."):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("cincopa_sync.")}
    return found


def _allowed(part: str, target: str) -> bool:
    rules = ALLOWED[part]
    target_part = _part(target)
    if "*" in rules or target_part == part or target_part == "__init__":
        return True
    sub = ".".join(target.split(".")[1:3])  # manifest.yamlwrite
    return target_part in rules or sub in rules


def test_every_part_imports_only_what_its_layer_allows() -> None:
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE.parent).with_suffix("")
        module = ".".join(relative.parts)
        part = _part(module) if module != "cincopa_sync.__init__" else "__init__"
        for target in sorted(_imports(path)):
            if not _allowed(part, target):
                wrong.append(f"{module} imports {target}")
    assert wrong == []


def test_the_rules_cover_every_part() -> None:
    parts = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir()}
    parts -= {"__pycache__"}
    assert parts <= set(ALLOWED), parts - set(ALLOWED)
