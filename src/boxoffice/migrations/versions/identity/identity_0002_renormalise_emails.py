"""identity: stored e-mail addresses in the one normal form (NFKC + case folding)

Sign-up used to keep what the e-mail validator returned, lower-cased; login lower-cased
what was typed. The two differed for non-ASCII addresses (a full-width letter in the local
part, ``ß``), so some people could not sign in with what they typed. Every address is now
stored as ``identity.domain.normalise_email`` makes it; rows already in that form (every
ASCII address) are untouched. A row whose normal form another account already has is
left as it is and logged: two accounts that are one address need a person to merge them.

Revision ID: identity_0002
Revises: identity_0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import logging
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "identity_0002"
down_revision = "identity_0001"
branch_labels = None
depends_on = None

_users = sa.table("identity_users", sa.column("id", sa.String), sa.column("email", sa.String))
log = logging.getLogger("boxoffice.migrations")


def _normal(email: str) -> str:
    # A copy of identity.domain.normalise_email as of this revision (a migration must not
    # change when the application's code does).
    folded = unicodedata.normalize("NFKC", email).casefold()
    return unicodedata.normalize("NFKC", folded).strip()


def upgrade() -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.select(_users.c.id, _users.c.email)).all()
    taken = {email for _, email in rows}
    for user_id, email in rows:
        normal = _normal(email)
        if normal == email:
            continue
        if normal in taken:
            log.warning("identity_0002: user %s keeps a non-normal e-mail (taken)", user_id)
            continue
        connection.execute(sa.update(_users).where(_users.c.id == user_id).values(email=normal))
        taken.add(normal)


def downgrade() -> None:
    pass  # the normal form is a valid address: nothing to undo
