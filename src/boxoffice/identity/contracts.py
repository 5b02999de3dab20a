"""What identity offers the contexts above it, and the ports they fill for it.

:class:`DeletionGuards`: before an account is deleted, identity asks every context that
registered a guard whether something of the account must stop it (tickets: a valid ticket
for a show to come). A guard answers a reason code, or ``None``; it runs in the deletion's
transaction and changes nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from boxoffice.platform.uow import UnitOfWork

DeletionGuard = Callable[[UnitOfWork, str], Awaitable[str | None]]


@dataclass
class DeletionGuards:
    """Filled at start-up (each context's ``provide``); read by ``delete_account``."""

    guards: list[DeletionGuard] = field(default_factory=list)
