"""The context map in docs/architecture.md, computed from the code's imports.

`python -m tests.support.architecture` rewrites the picture between the markers;
tests/unit/architecture checks that the page shows what the code does.
"""

from __future__ import annotations

import pathlib
import re

import grimp

ROOT = pathlib.Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "architecture.md"
BEGIN, END = "<!-- context-map:begin -->", "<!-- context-map:end -->"
CONTEXTS = (
    "identity",
    "catalog",
    "waitroom",
    "seating",
    "merch",
    "orders",
    "tickets",
    "notifications",
    "batch",
)
ENTRY_POINTS = ("web",)


def context_arrows() -> set[tuple[str, str]]:
    """(importer, imported) pairs between contexts and the shop, from every import in src."""
    graph = grimp.build_graph("boxoffice")
    rooms = CONTEXTS + ENTRY_POINTS
    arrows = set()
    for importer in rooms:
        for imported in CONTEXTS:
            if importer != imported and graph.direct_import_exists(
                importer=f"boxoffice.{importer}", imported=f"boxoffice.{imported}", as_packages=True
            ):
                arrows.add((importer, imported))
    return arrows


def mermaid(arrows: set[tuple[str, str]]) -> str:
    lines = ["```mermaid", "flowchart TD"]
    lines += [f"    {room}" for room in CONTEXTS + ENTRY_POINTS]
    lines += [f"    {a} --> {b}" for a, b in sorted(arrows)]
    lines += ["    platform[(platform: the kernel, imported by all)]", "```"]
    return "\n".join(lines)


def shown_block(page: str) -> str:
    match = re.search(re.escape(BEGIN) + r"\n(.*?)" + re.escape(END), page, re.S)
    return match.group(1).rstrip("\n") if match else ""


def rewrite() -> None:
    page = PAGE.read_text()
    block = mermaid(context_arrows())
    start, end = page.index(BEGIN) + len(BEGIN), page.index(END)
    page = f"{page[:start]}\n{block}\n{page[end:]}"
    PAGE.write_text(page)


if __name__ == "__main__":
    rewrite()
