"""The sandbox stands alone: it could be lifted out as its own package (DESIGN.md §2)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SANDBOX = Path(__file__).resolve().parents[3] / "rocky_bot" / "sandbox"
MODULES = sorted(SANDBOX.glob("*.py"))


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_the_sandbox_imports_nothing_of_the_bot(path: Path) -> None:
    bot = {n for n in imported(path) if n.startswith("rocky_bot") and n != "rocky_bot.sandbox"}
    assert all(n.startswith("rocky_bot.sandbox.") for n in bot), bot


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_each_module_keeps_to_one_job(path: Path) -> None:
    assert len(path.read_text().splitlines()) <= 300, "past ~300 lines a module wants splitting"
