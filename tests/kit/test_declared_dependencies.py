"""Every distribution declares what its code imports at runtime, the skeleton included.

A plugin that imports ``attrs`` (or anything) without declaring it works in this
repository's environment, where notify-core brought it along, and breaks the day
notify-core stops depending on it. Imports under ``if TYPE_CHECKING:`` do not count:
they never run.
"""

from __future__ import annotations

import ast
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
import tomllib

from notify_core._cli import main

ROOT = Path(__file__).resolve().parents[2]
DISTRIBUTIONS = sorted(
    p.parent
    for p in [*ROOT.glob("plugins/*/pyproject.toml"), *ROOT.glob("examples/*/pyproject.toml")]
)


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


class _Imports(ast.NodeVisitor):
    """Modules a file imports when it runs (``if TYPE_CHECKING:`` blocks skipped)."""

    def __init__(self) -> None:
        self.found: list[str] = []

    def visit_If(self, node: ast.If) -> None:
        for child in node.orelse if _type_checking(node) else [node.test, *node.body, *node.orelse]:
            self.visit(child)

    def visit_Import(self, node: ast.Import) -> None:
        self.found += [alias.name for alias in node.names]

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level == 0 and node.module:
            self.found.append(node.module)


def runtime_distributions(src: Path) -> dict[str, str]:
    """Distribution → a module of ``src`` that imports it, for third-party imports."""
    found: dict[str, str] = {}
    owners = packages_distributions()
    own = {p.name for p in src.iterdir() if p.is_dir()}
    for file in sorted(src.rglob("*.py")):
        imports = _Imports()
        imports.visit(ast.parse(file.read_text(encoding="utf-8")))
        for module in imports.found:
            top = module.split(".")[0]
            if top in sys.stdlib_module_names or top in own or top == "__future__":
                continue
            for dist in owners.get(top, [top]):
                found.setdefault(_normal(dist), str(file.relative_to(src)))
    return found


def declared(pyproject: Path) -> set[str]:
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    names = (re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", d) for d in project.get("dependencies", []))
    return {_normal(m.group(0)) for m in names if m}


def check_declares_its_imports(root: Path) -> None:
    wanted = declared(root / "pyproject.toml")
    missing = [
        f"{dist} (imported by {where})"
        for dist, where in sorted(runtime_distributions(root / "src").items())
        if dist not in wanted
    ]
    if missing:
        raise AssertionError(f"{root.name}/pyproject.toml does not declare {', '.join(missing)}")


@pytest.mark.parametrize("root", DISTRIBUTIONS, ids=lambda p: p.name)
def test_each_plugin_declares_what_it_imports(root: Path) -> None:
    check_declares_its_imports(root)


def test_the_skeleton_declares_what_it_imports(tmp_path: Path) -> None:
    assert main(["plugin", "new", "acme-chat", "--dir", str(tmp_path)]) == 0
    root = tmp_path / "notify_acme_chat"
    assert runtime_distributions(root / "src") == {"notify-core": "notify_acme_chat/__init__.py"}
    check_declares_its_imports(root)


def test_the_check_sees_an_undeclared_import(tmp_path: Path) -> None:
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    (tmp_path / "src" / "pkg" / "__init__.py").write_text(
        "from typing import TYPE_CHECKING\nimport attrs\nif TYPE_CHECKING:\n    import httpx\n"
    )
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "pkg"\ndependencies = []\n')
    with pytest.raises(
        AssertionError, match=r"does not declare attrs \(imported by pkg/__init__.py\)$"
    ):
        check_declares_its_imports(tmp_path)
