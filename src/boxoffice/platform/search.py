"""The search box of a list: ``q`` found anywhere in some text columns, in any case, with
the user's ``%`` and ``_`` taken literally (the same on every backend)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, ColumnExpressionArgument, func, or_


def like_pattern(text: str) -> str:
    """A case-folded LIKE pattern matching ``text`` anywhere, wildcards escaped with ``\\``."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def contains(text: str, *columns: ColumnExpressionArgument[str]) -> ColumnElement[bool]:
    """True where any of ``columns`` contains ``text`` (see :func:`like_pattern`)."""
    pattern = like_pattern(text)
    return or_(*(func.lower(column).like(pattern, escape="\\") for column in columns))
