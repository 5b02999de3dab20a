"""Authorisation as the account is now, not as its access token said when issued.

An access token (100 minutes by default) names its user, role and login (``sid``: the
refresh-token family). Two kinds of change must reach it within the token's life, in
every API process:

- the user's **role** changed (an admin demoted, a seller's approval withdrawn, which
  makes them a customer): identity records the new role here after its commit;
- the **login ended** (logout, or refresh-token reuse revoked the family): identity
  records the ended ``sid``.

Both are kept in the key-value store (Redis in production) for as long as a token issued
before the change can live (its TTL + leeway), so the entries stay few and expire by
themselves; the database stays the record (``identity_users.role``, the family's
``revoked_at``), and a new token carries the current role anyway. Every authenticated
request reads both entries in one ``MGET`` (batched with the other requests' reads of the
same event-loop turn): one round trip, no per-process cache to go stale.
"""

from __future__ import annotations

from dataclasses import replace

from boxoffice.platform.errors import InvalidToken
from boxoffice.platform.kv import KeyValueStore, key
from boxoffice.platform.security import LEEWAY_SECONDS, Principal, Role

ENDED = "ended"


class Authorisations:
    """Reads and records the changes to users' authorisation (see the module's doc)."""

    def __init__(
        self,
        kv: KeyValueStore,
        access_token_seconds: float,
        leeway_seconds: float = 2 * LEEWAY_SECONDS,  # verification's leeway, and a margin
    ) -> None:
        self._kv = kv
        self._keep_seconds = access_token_seconds + leeway_seconds

    def _role_key(self, user_id: str) -> str:
        return key(self._kv, "authz", f"{{{user_id}}}", "role")  # one hash slot per user

    def _login_key(self, user_id: str, sid: str) -> str:
        return key(self._kv, "authz", f"{{{user_id}}}", "sid", sid)

    async def current(self, principal: Principal) -> Principal:
        """``principal`` with its current role; raises ``InvalidToken`` (401) when its
        login has ended."""
        if principal.sid is None:  # a token from before logins were named: role only
            role = await self._kv.get(self._role_key(principal.id))
        else:
            role, ended = await self._kv.get_many(
                self._role_key(principal.id), self._login_key(principal.id, principal.sid)
            )
            if ended is not None:
                raise InvalidToken("This sign-in has ended; sign in again.")
        if role is None or role == principal.role.value:
            return principal
        return replace(principal, role=Role(role))

    async def role_changed(self, user_id: str, role: Role) -> None:
        """The user's role is now ``role`` (recorded after the database committed it)."""
        await self._kv.set(self._role_key(user_id), role.value, ttl=self._keep_seconds)

    async def login_ended(self, user_id: str, sid: str) -> None:
        """Every access token of login ``sid`` stops working now."""
        await self._kv.set(self._login_key(user_id, sid), ENDED, ttl=self._keep_seconds)
