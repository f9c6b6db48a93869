"""The code's shape, checked from its syntax tree: packages talk through public names, and
functions stay short enough to read (issue 15)."""

from __future__ import annotations

import ast
from pathlib import Path

CCGEN = Path(__file__).resolve().parent.parent / "ccgen"
MAX_LINES = 60


def _modules() -> list[tuple[str, ast.Module]]:
    return [(".".join(p.relative_to(CCGEN.parent).with_suffix("").parts), ast.parse(p.read_text()))
            for p in sorted(CCGEN.rglob("*.py"))]


def _package(module: str) -> str:
    """The subpackage a module belongs to: ccgen.captions.lint and ccgen.captions -> ccgen.captions;
    ccgen.cli and ccgen.inventory -> ccgen."""
    parts = module.split(".")
    return f"ccgen.{parts[1]}" if len(parts) > 1 and (CCGEN / parts[1]).is_dir() else "ccgen"


def _crossings(module: str, tree: ast.Module) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ccgen"):
            private = [a.name for a in node.names
                       if a.name.startswith("_") and not a.name.startswith("__")]
            if private and _package(node.module) != _package(module):
                found.append(f"{module}:{node.lineno} {node.module} {private}")
    return found


def test_no_private_name_is_imported_across_packages() -> None:
    assert [c for module, tree in _modules() for c in _crossings(module, tree)] == []


def test_the_check_sees_a_crossing() -> None:
    """The rule above is not vacuous: it flags the shape it forbids, and only that."""
    tree = ast.parse("from ccgen.inventory import _reachable\nfrom ccgen.captions import x\n")
    assert len(_crossings("ccgen.events.qwen_omni", tree)) == 1
    assert _crossings("ccgen.pipeline", tree) == []  # same package: ccgen itself
    tree = ast.parse("from ccgen.captions.reading import _read\n")
    assert _crossings("ccgen.captions.lint", tree) == []
    assert len(_crossings("ccgen.finetune.sdh", tree)) == 1


def test_no_function_is_over_60_lines() -> None:
    long = [f"{module}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1})"
            for module, tree in _modules() for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.end_lineno - node.lineno + 1 > MAX_LINES]
    assert long == []
