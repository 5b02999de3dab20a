"""Column types for migrations, so a migration never depends on a model module."""

from __future__ import annotations

from boxoffice.platform.db import Id, UTCDateTime

__all__ = ["Id", "UTCDateTime"]
