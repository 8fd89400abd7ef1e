"""The package keeps its shape: no module reaches into another's private names.

The layers and the absence of circles are checked by `make lint` (import-linter, with the
contracts in pyproject.toml); this test checks what import-linter cannot: that a private
name (`_name`) is used only in the module that defines it.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "dossier"


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _defined(tree: ast.Module) -> set[str]:
    """Private names a module defines: functions, classes, attributes it assigns."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            names.add(node.value)  # __slots__ entries
    return {n for n in names if _private(n)}


def _reaches(path: Path, others: set[str]) -> list[str]:
    """`module: what` for each private name of another module that `path` uses (an
    attribute counts when another module of the package defines it: `sys._getframe` is
    not ours to judge)."""
    tree = ast.parse(path.read_text(), str(path))
    own = _defined(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("dossier"):
            found += [f"imports {node.module}.{a.name}" for a in node.names if _private(a.name)]
        elif isinstance(node, ast.Attribute) and _private(node.attr) \
                and node.attr not in own and node.attr in others:
            found.append(f"line {node.lineno}: .{node.attr}")
    return [f"{path.relative_to(PACKAGE)}: {what}" for what in found]


def _all_defined() -> set[str]:
    return {name for path in PACKAGE.rglob("*.py")
            for name in _defined(ast.parse(path.read_text()))}


def test_no_module_uses_a_private_name_of_another() -> None:
    others = _all_defined()
    found = [what for path in sorted(PACKAGE.rglob("*.py")) for what in _reaches(path, others)]
    assert found == []


def test_the_check_finds_a_private_name_of_another_module(tmp_path: Path) -> None:
    module = tmp_path / "reach.py"
    module.write_text("from dossier.model.site import _Noted\n\n"
                      "def count(site):\n    return len(site._records)\n")
    global PACKAGE
    saved, PACKAGE = PACKAGE, tmp_path
    try:
        assert _reaches(module, {"_records"}) == ["reach.py: imports dossier.model.site._Noted",
                                    "reach.py: line 4: ._records"]
    finally:
        PACKAGE = saved
