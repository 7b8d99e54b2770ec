"""Imports run one way (ARCHITECTURE §1, STYLE §1), checked on the AST of
every module: desktop → node → shared; sync_server → shared."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# package -> top-level modules it must never import
FORBIDDEN = {
    "node": {"PySide6", "desktop", "sync_server", "aiohttp"},
    "shared": {"node", "desktop", "sync_server", "PySide6"},
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
    return names


def violations(package: str, forbidden: set[str]) -> list[str]:
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for name in imported_modules(path):
            if name.split(".")[0] in forbidden:
                found.append(f"{path.relative_to(ROOT)} imports {name}")
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_run_one_way(package: str) -> None:
    assert violations(package, FORBIDDEN[package]) == []


def test_the_checker_sees_a_forbidden_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import os\nfrom PySide6.QtWidgets import QWidget\n")
    assert "PySide6.QtWidgets" in imported_modules(bad)


def test_qt_is_imported_only_through_one_door() -> None:
    """STYLE §2: PySide6 appears only in desktop/qt.py."""
    offenders = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "desktop").rglob("*.py"))
        if path.name != "qt.py"
        and any(name.split(".")[0] == "PySide6" for name in imported_modules(path))
    ]
    assert offenders == []
