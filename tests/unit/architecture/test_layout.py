"""The code's shape, checked: the context map in docs/architecture.md is the code's, no
module of src/ is over 400 lines and no function over 60 (migrations aside)."""

from __future__ import annotations

import ast
import pathlib

from tests.support.architecture import PAGE, context_arrows, mermaid, shown_block

SRC = pathlib.Path(__file__).resolve().parents[3] / "src" / "boxoffice"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def _sources() -> list[pathlib.Path]:
    return [p for p in sorted(SRC.rglob("*.py")) if "migrations" not in p.parts]


def test_the_context_map_shows_the_imports_the_code_has() -> None:
    shown = shown_block(PAGE.read_text())
    assert shown == mermaid(context_arrows()), (
        "docs/architecture.md's context map is stale: run python -m tests.support.architecture"
    )


def test_no_module_is_over_400_lines() -> None:
    long = {
        str(p.relative_to(SRC)): n
        for p in _sources()
        if (n := p.read_text().count("\n")) > MAX_MODULE_LINES
    }
    assert long == {}


def test_no_function_is_over_60_lines() -> None:
    long = {}
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long[f"{path.relative_to(SRC)}:{node.name}"] = lines
    assert long == {}
