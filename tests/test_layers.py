"""Imports run one way (ARCHITECTURE §1, STYLE §1), checked on the AST of
every module: desktop → node → shared; sync_server → shared."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# package -> modules it must never import (a name forbids it and its submodules)
FORBIDDEN = {
    # the node may use aiohttp's client, never its server (ARCHITECTURE §1)
    "node": {"PySide6", "desktop", "sync_server", "aiohttp.web"},
    "shared": {"node", "desktop", "sync_server", "PySide6", "aiohttp"},
    "sync_server": {"node", "desktop", "PySide6"},
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def forbidden(name: str, rules: set[str]) -> bool:
    return any(name == rule or name.startswith(rule + ".") for rule in rules)


def violations(package: str, rules: set[str]) -> list[str]:
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for name in sorted(imported_modules(path)):
            if forbidden(name, rules):
                found.append(f"{path.relative_to(ROOT)} imports {name}")
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_run_one_way(package: str) -> None:
    assert violations(package, FORBIDDEN[package]) == []


def test_the_checker_sees_a_forbidden_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import os\nfrom PySide6.QtWidgets import QWidget\nfrom aiohttp import web\n")
    names = imported_modules(bad)
    assert forbidden("PySide6.QtWidgets", FORBIDDEN["node"])
    assert any(forbidden(n, FORBIDDEN["node"]) for n in names if n.startswith("aiohttp"))
    assert not forbidden("aiohttp.client", FORBIDDEN["node"])


def test_qt_is_imported_only_through_one_door() -> None:
    """STYLE §2: PySide6 appears only in desktop/qt.py."""
    offenders = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "desktop").rglob("*.py"))
        if path.name != "qt.py"
        and any(name.split(".")[0] == "PySide6" for name in imported_modules(path))
    ]
    assert offenders == []
