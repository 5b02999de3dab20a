"""batch: job state, run history, and the database leases (platform_leases)

Revision ID: batch_0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from boxoffice.migrations.types import Id, UTCDateTime

revision = "batch_0001"
down_revision = None
branch_labels = ("batch",)
depends_on = None


def upgrade() -> None:
    # The lease table serves every leader role without Redis; batch's scheduler is the
    # first, so batch's branch creates it (the model lives in boxoffice.platform.lease).
    op.create_table(
        "platform_leases",
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("holder", sa.String(200), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_platform_leases"),
    )
    op.create_table(
        "batch_jobs",
        sa.Column("job", sa.String(120), nullable=False),
        sa.Column("last_tick_at", UTCDateTime(), nullable=True),
        sa.Column("running_run_id", Id(), nullable=True),
        sa.Column("running_holder", sa.String(200), nullable=True),
        sa.Column("running_expires_at", UTCDateTime(), nullable=True),
        sa.Column("last_run_id", Id(), nullable=True),
        sa.PrimaryKeyConstraint("job", name="pk_batch_jobs"),
    )
    op.create_table(
        "batch_runs",
        sa.Column("id", Id(), nullable=False),
        sa.Column("job", sa.String(120), nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("scheduled_for", UTCDateTime(), nullable=True),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("rows_affected", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("runner", sa.String(200), nullable=False),
        sa.Column("requested_by", Id(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_batch_runs"),
        sa.UniqueConstraint("job", "scheduled_for", name="uq_batch_runs_job_scheduled_for"),
    )
    op.create_index("ix_batch_runs_job_started_at", "batch_runs", ["job", "started_at"])
    op.create_index("ix_batch_runs_started_at", "batch_runs", ["started_at"])


def downgrade() -> None:
    op.drop_table("batch_runs")
    op.drop_table("batch_jobs")
    op.drop_table("platform_leases")
