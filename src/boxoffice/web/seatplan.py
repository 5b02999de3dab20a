"""Where each seat is drawn: the venue's own coordinates, or a plan made from its rows.

The plan is static for a venue (seats never move), so it is served once per browser with
long caching; what changes (a seat's status) comes from the seat map the API serves.
"""

from __future__ import annotations

import math
from typing import Any

SECTION_GAP = 3.0  # empty seats' worth of space between generated sections


def plan(venue: dict[str, Any]) -> dict[str, Any]:
    """``{width, height, seat_count, sections: [{name, grade, x, y, w, h, seats}]}`` where
    each seat is ``[id, row, number, x, y]`` in seat units (y grows away from the stage)."""
    sections = venue["sections"]
    seats = [s for section in sections for row in section["rows"] for s in row["seats"]]
    if seats and all(s.get("x") is not None and s.get("y") is not None for s in seats):
        placed = [_from_coordinates(section) for section in sections]
    else:
        placed = _generated(sections)
    placed = [p for p in placed if p["seats"]]
    left = min((p["x"] for p in placed), default=0.0)
    top = min((p["y"] for p in placed), default=0.0)
    for p in placed:  # the plan starts at (0, 0)
        p["x"] -= left
        p["y"] -= top
        p["seats"] = [
            [i, r, n, round(x - left, 2), round(y - top, 2)] for i, r, n, x, y in p["seats"]
        ]
    return {
        "venue_id": venue["id"],
        "width": max((p["x"] + p["w"] for p in placed), default=0.0),
        "height": max((p["y"] + p["h"] for p in placed), default=0.0),
        "seat_count": len(seats),
        "sections": placed,
    }


def _from_coordinates(section: dict[str, Any]) -> dict[str, Any]:
    seats = [
        [s["id"], row["label"], s["number"], float(s["x"]), float(s["y"])]
        for row in section["rows"]
        for s in row["seats"]
    ]
    return _boxed(section, seats)


def _boxed(section: dict[str, Any], seats: list[list[Any]]) -> dict[str, Any]:
    xs = [s[3] for s in seats] or [0.0]
    ys = [s[4] for s in seats] or [0.0]
    return {
        "name": section["name"],
        "grade": section["grade"],
        "x": min(xs) - 0.5,
        "y": min(ys) - 0.5,
        "w": max(xs) - min(xs) + 1.0,
        "h": max(ys) - min(ys) + 1.0,
        "seats": seats,
    }


def _generated(sections: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows centred in their section; up to four sections stacked behind each other from the
    stage, more laid out in a grid of blocks."""
    blocks: list[tuple[dict[str, Any], list[list[Any]], float, float]] = []
    for section in sections:
        widest = max((len(row["seats"]) for row in section["rows"]), default=0)
        seats = []
        for row_index, row in enumerate(section["rows"]):
            offset = (widest - len(row["seats"])) / 2
            for seat_index, seat in enumerate(row["seats"]):
                place = [offset + seat_index, float(row_index)]
                seats.append([seat["id"], row["label"], seat["number"], *place])
        blocks.append((section, seats, float(widest), float(len(section["rows"]))))
    columns = 1 if len(blocks) <= 4 else math.ceil(math.sqrt(len(blocks)))
    cell_w = max((b[2] for b in blocks), default=0.0) + SECTION_GAP
    placed: list[dict[str, Any]] = []
    top, row_h = 0.0, 0.0
    for index, (section, seats, width, height) in enumerate(blocks):
        column = index % columns
        if column == 0 and index:
            top += row_h + SECTION_GAP
            row_h = 0.0
        left = column * cell_w + (cell_w - SECTION_GAP - width) / 2
        row_h = max(row_h, height)
        moved = [[i, r, n, sx + left, sy + top] for i, r, n, sx, sy in seats]
        placed.append(_boxed(section, moved))
    return placed
