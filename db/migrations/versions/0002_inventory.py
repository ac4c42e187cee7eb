"""inventory control: phases, versioned price lists, unit fields (hand-written)

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(precision=14, scale=2)
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "phases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("project_id", "name"),
    )
    op.create_table(
        "price_lists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", TS, server_default=sa.text("now()"), nullable=False),
        sa.Column("approved_by", sa.String(length=64), nullable=True),
        sa.Column("published_at", TS, nullable=True),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("project_id", "version"),
    )
    op.create_table(
        "price_list_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("price_list_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("unit_price", MONEY, nullable=False),
        sa.Column("total_price", MONEY, nullable=False),
        sa.Column("floor_price", MONEY, nullable=True),
        sa.ForeignKeyConstraint(["price_list_id"], ["price_lists.id"]),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("price_list_id", "unit_id"),
    )
    op.add_column("units", sa.Column("phase_id", sa.Integer(), nullable=True))
    op.add_column("units", sa.Column("entrance", sa.String(length=16), nullable=True))
    op.add_column("units", sa.Column("use", sa.String(length=16), nullable=True))
    op.add_column("units", sa.Column("orientation", sa.String(length=16), nullable=True))
    op.add_column("units", sa.Column("net_area", sa.Numeric(precision=10, scale=2), nullable=True))
    op.add_column("units", sa.Column("floor_price", MONEY, nullable=True))
    op.add_column("units", sa.Column("filed_price", MONEY, nullable=True))
    op.add_column("units", sa.Column("presale_permit", sa.String(length=64), nullable=True))
    op.add_column("units", sa.Column("price_list_id", sa.Integer(), nullable=True))
    op.add_column("units", sa.Column("locked_at", TS, nullable=True))
    op.add_column("units", sa.Column("locked_by", sa.String(length=64), nullable=True))
    op.add_column("units", sa.Column("hold_reason", sa.Text(), nullable=True))
    op.create_foreign_key("units_phase_id_fkey", "units", "phases", ["phase_id"], ["id"])
    op.create_foreign_key("units_price_list_id_fkey", "units", "price_lists", ["price_list_id"], ["id"])


def downgrade() -> None:
    op.drop_constraint("units_price_list_id_fkey", "units", type_="foreignkey")
    op.drop_constraint("units_phase_id_fkey", "units", type_="foreignkey")
    for col in ("hold_reason", "locked_by", "locked_at", "price_list_id", "presale_permit", "filed_price",
                "floor_price", "net_area", "orientation", "use", "entrance", "phase_id"):
        op.drop_column("units", col)
    op.drop_table("price_list_items")
    op.drop_table("price_lists")
    op.drop_table("phases")
