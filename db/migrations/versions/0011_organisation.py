"""The organisation: city companies over projects, people with memberships (a role in a project, a city
company or the whole group), tasks in a project's role pool that a person may claim, customers per project.

Existing data moves in without loss: one city company per existing city (named after it), each project in
its city's company; each customer in the project of its first subscription (else of its refund case, else
the first project); each task in its case's project; each existing user keeps their role, as a membership
in every existing project (project roles), every city company (citygm) or the group (hqrisk, ops).

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

PROJECT_ROLES = ("frontdesk", "sales", "manager", "finance", "legal", "marketing")


def upgrade() -> None:
    op.create_table(
        "city_companies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.execute("""
        INSERT INTO city_companies (name)
        SELECT DISTINCT CASE WHEN coalesce(city, '') = '' THEN '默认城市公司' ELSE city || '公司' END FROM projects
    """)
    op.add_column("projects", sa.Column("city_company_id", sa.Integer(), nullable=True))
    op.execute("""
        UPDATE projects p SET city_company_id = c.id FROM city_companies c
        WHERE c.name = CASE WHEN coalesce(p.city, '') = '' THEN '默认城市公司' ELSE p.city || '公司' END
    """)
    op.alter_column("projects", "city_company_id", nullable=False)
    op.create_foreign_key("projects_city_company_id_fkey", "projects", "city_companies", ["city_company_id"], ["id"])
    op.create_index("ix_projects_city_company_id", "projects", ["city_company_id"], unique=False)

    op.add_column("users", sa.Column("employee_no", sa.String(length=32), nullable=True))
    op.add_column("users", sa.Column("mobile_enc", sa.Text(), nullable=True))
    op.add_column("users", sa.Column("mobile_masked", sa.String(length=16), nullable=True))
    op.add_column("users", sa.Column("must_change_password", sa.Boolean(), server_default=sa.text("false"), nullable=False))
    op.create_unique_constraint("users_employee_no_key", "users", ["employee_no"])

    op.create_table(
        "memberships",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=True),
        sa.Column("city_company_id", sa.Integer(), nullable=True),
        sa.Column("granted_by", sa.Integer(), nullable=True),
        sa.Column("granted_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("revoked_by", sa.Integer(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(scope = 'project' AND project_id IS NOT NULL AND city_company_id IS NULL)"
            " OR (scope = 'city' AND city_company_id IS NOT NULL AND project_id IS NULL)"
            " OR (scope = 'group' AND project_id IS NULL AND city_company_id IS NULL)",
            name="membership_scope",
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"]),
        sa.ForeignKeyConstraint(["city_company_id"], ["city_companies.id"]),
        sa.ForeignKeyConstraint(["granted_by"], ["users.id"]),
        sa.ForeignKeyConstraint(["revoked_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_memberships_user_id", "memberships", ["user_id"], unique=False)
    op.create_index(
        "uq_membership_live", "memberships",
        ["user_id", "role", "scope", sa.text("coalesce(project_id, 0)"), sa.text("coalesce(city_company_id, 0)")],
        unique=True, postgresql_where=sa.text("revoked_at IS NULL"),
    )
    op.create_index("ix_memberships_project_role", "memberships", ["project_id", "role"], unique=False,
                    postgresql_where=sa.text("revoked_at IS NULL"))
    roles = ", ".join(f"'{r}'" for r in PROJECT_ROLES)
    op.execute(f"""INSERT INTO memberships (user_id, role, scope, project_id)
                   SELECT u.id, u.role, 'project', p.id FROM users u CROSS JOIN projects p WHERE u.role IN ({roles})""")
    op.execute("""INSERT INTO memberships (user_id, role, scope, city_company_id)
                  SELECT u.id, u.role, 'city', c.id FROM users u CROSS JOIN city_companies c WHERE u.role = 'citygm'""")
    op.execute("""INSERT INTO memberships (user_id, role, scope)
                  SELECT u.id, u.role, 'group' FROM users u WHERE u.role IN ('hqrisk', 'ops')""")

    op.add_column("customers", sa.Column("project_id", sa.Integer(), nullable=True))
    op.execute("""
        UPDATE customers c SET project_id = coalesce(
          (SELECT u.project_id FROM subscriptions s JOIN units u ON u.id = s.unit_id
            WHERE s.customer_id = c.id ORDER BY s.id LIMIT 1),
          (SELECT r.project_id FROM refund_cases r WHERE r.customer_id = c.id ORDER BY r.registered_at LIMIT 1),
          (SELECT min(id) FROM projects))
    """)
    op.execute("""
        DO $$ BEGIN
          IF EXISTS (SELECT 1 FROM customers WHERE project_id IS NULL) THEN
            INSERT INTO city_companies (name) VALUES ('默认城市公司') ON CONFLICT (name) DO NOTHING;
            INSERT INTO projects (name, city, city_company_id, marketing_budget, retention_ratio, grace_days)
              SELECT '默认项目', '', id, 0, 0.05, 7 FROM city_companies WHERE name = '默认城市公司';
            UPDATE customers SET project_id = (SELECT id FROM projects WHERE name = '默认项目') WHERE project_id IS NULL;
          END IF;
        END $$
    """)
    op.alter_column("customers", "project_id", nullable=False)
    op.create_foreign_key("customers_project_id_fkey", "customers", "projects", ["project_id"], ["id"])
    op.create_index("ix_customers_project_id", "customers", ["project_id"], unique=False)

    op.add_column("tasks", sa.Column("project_id", sa.Integer(), nullable=True))
    op.execute("UPDATE tasks t SET project_id = r.project_id FROM refund_cases r WHERE r.id = t.case_id")
    op.alter_column("tasks", "project_id", nullable=False)
    op.create_foreign_key("tasks_project_id_fkey", "tasks", "projects", ["project_id"], ["id"])
    op.add_column("tasks", sa.Column("claimed_by", sa.Integer(), nullable=True))
    op.add_column("tasks", sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))
    op.create_foreign_key("tasks_claimed_by_fkey", "tasks", "users", ["claimed_by"], ["id"])
    op.create_index("ix_tasks_open_pool", "tasks", ["project_id", "role", "due_at"], unique=False,
                    postgresql_where=sa.text("status = 'open'"))
    op.create_index("ix_tasks_open_claimed", "tasks", ["claimed_by", "due_at"], unique=False,
                    postgresql_where=sa.text("status = 'open'"))


def downgrade() -> None:
    op.drop_index("ix_tasks_open_claimed", table_name="tasks")
    op.drop_index("ix_tasks_open_pool", table_name="tasks")
    op.drop_constraint("tasks_claimed_by_fkey", "tasks", type_="foreignkey")
    op.drop_column("tasks", "claimed_at")
    op.drop_column("tasks", "claimed_by")
    op.drop_constraint("tasks_project_id_fkey", "tasks", type_="foreignkey")
    op.drop_column("tasks", "project_id")
    op.drop_index("ix_customers_project_id", table_name="customers")
    op.drop_constraint("customers_project_id_fkey", "customers", type_="foreignkey")
    op.drop_column("customers", "project_id")
    op.drop_index("ix_memberships_project_role", table_name="memberships")
    op.drop_index("uq_membership_live", table_name="memberships")
    op.drop_index("ix_memberships_user_id", table_name="memberships")
    op.drop_table("memberships")
    op.drop_constraint("users_employee_no_key", "users", type_="unique")
    for col in ("must_change_password", "mobile_masked", "mobile_enc", "employee_no"):
        op.drop_column("users", col)
    op.drop_index("ix_projects_city_company_id", table_name="projects")
    op.drop_constraint("projects_city_company_id_fkey", "projects", type_="foreignkey")
    op.drop_column("projects", "city_company_id")
    op.drop_table("city_companies")
