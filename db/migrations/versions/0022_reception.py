"""Reception (visits, rotation) and channel partners' registrations (issue 15)

Tables: channel_partners, partner_registrations, walk_ins, duty_roster, rotation_events (db/reception_models.py).

Revision ID: 0022
Revises: 0021
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
JSONB = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "channel_partners",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("contact_name", sa.String(64), nullable=True),
        sa.Column("contact_mobile_enc", sa.Text(), nullable=True),
        sa.Column("contact_mobile_masked", sa.String(16), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        sa.UniqueConstraint("project_id", "name", name="uq_channel_partner_name"),
        sa.CheckConstraint("kind IN ('agency', 'distributor')", name="channel_partner_kind"),
    )
    op.create_index("ix_channel_partners_project_id", "channel_partners", ["project_id"])

    op.create_table(
        "partner_registrations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("partner_id", sa.Integer(), sa.ForeignKey("channel_partners.id"), nullable=False),
        sa.Column("prospect_name", sa.String(64), nullable=False),
        sa.Column("mobile_enc", sa.Text(), nullable=False),
        sa.Column("mobile_bidx", sa.String(64), nullable=False),
        sa.Column("mobile_masked", sa.String(16), nullable=False),
        sa.Column("registered_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("registered_at", TS, nullable=False),
        sa.Column("protected_until", TS, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.CheckConstraint("status IN ('active', 'withdrawn')", name="partner_registration_status"),
        sa.CheckConstraint("protected_until > registered_at", name="partner_registration_window"),
    )
    op.create_index("ix_partner_registrations_partner_id", "partner_registrations", ["partner_id"])
    op.create_index("ix_partner_registrations_lookup", "partner_registrations", ["project_id", "mobile_bidx"])

    op.create_table(
        "walk_ins",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("arrived_at", TS, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("group_size", sa.Integer(), nullable=False),
        sa.Column("first_visit", sa.Boolean(), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("visitor_name", sa.String(64), nullable=True),
        sa.Column("mobile_enc", sa.Text(), nullable=True),
        sa.Column("mobile_bidx", sa.String(64), nullable=True),
        sa.Column("mobile_masked", sa.String(16), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customers.id"), nullable=True),
        sa.Column("customer_visit_id", sa.BigInteger(), sa.ForeignKey("customer_visits.id"), nullable=True, unique=True),
        sa.Column("registration_id", sa.Integer(), sa.ForeignKey("partner_registrations.id"), nullable=True),
        sa.Column("reserved_for", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("consultant_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("taken_at", TS, nullable=True),
        sa.Column("registered_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.CheckConstraint("group_size BETWEEN 1 AND 50", name="walk_in_group_size"),
        sa.CheckConstraint("(consultant_id IS NULL) = (taken_at IS NULL)", name="walk_in_taken"),
    )
    op.create_index("ix_walk_ins_project_day", "walk_ins", ["project_id", "day"])
    op.create_index("ix_walk_ins_mobile", "walk_ins", ["project_id", "mobile_bidx"])
    op.create_index("ix_walk_ins_customer_id", "walk_ins", ["customer_id"])
    op.create_index("ix_walk_ins_registration_id", "walk_ins", ["registration_id"])

    op.create_table(
        "duty_roster",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("consultant_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("present", sa.Boolean(), nullable=False),
        sa.UniqueConstraint("project_id", "day", "consultant_id", name="uq_duty_roster_consultant"),
        sa.CheckConstraint("position >= 1", name="duty_roster_position"),
    )

    op.create_table(
        "rotation_events",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("consultant_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("walk_in_id", sa.BigInteger(), sa.ForeignKey("walk_ins.id"), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("detail", JSONB, nullable=False),
        sa.Column("actor_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.CheckConstraint("kind IN ('roster_set', 'offered', 'taken', 'skipped', 'absent', 'back')",
                           name="rotation_event_kind"),
    )
    op.create_index("ix_rotation_events_project_day", "rotation_events", ["project_id", "day", "id"])
    op.create_index("ix_rotation_events_walk_in_id", "rotation_events", ["walk_in_id"])


def downgrade() -> None:
    op.drop_index("ix_rotation_events_walk_in_id", table_name="rotation_events")
    op.drop_index("ix_rotation_events_project_day", table_name="rotation_events")
    op.drop_table("rotation_events")
    op.drop_table("duty_roster")
    op.drop_index("ix_walk_ins_registration_id", table_name="walk_ins")
    op.drop_index("ix_walk_ins_customer_id", table_name="walk_ins")
    op.drop_index("ix_walk_ins_mobile", table_name="walk_ins")
    op.drop_index("ix_walk_ins_project_day", table_name="walk_ins")
    op.drop_table("walk_ins")
    op.drop_index("ix_partner_registrations_lookup", table_name="partner_registrations")
    op.drop_index("ix_partner_registrations_partner_id", table_name="partner_registrations")
    op.drop_table("partner_registrations")
    op.drop_index("ix_channel_partners_project_id", table_name="channel_partners")
    op.drop_table("channel_partners")
