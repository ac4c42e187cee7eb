"""Reports (issue 16): per-task and per-case report facts and monthly cells in schema `reporting`, refreshed from
the cases the records' writers mark; four indexes on the records (models: db/models.py).

Why: the SLA, handling-time, reasons and money reports of a whole group over a year cover ~50,000 cases and
~350,000 tasks; read from tasks, refund_cases, intake_forms, subscriptions, refund_instructions and
retention_ledger on every request they took 0.3–2.5 s (scripts/bench_reports.py). They now read:

- reporting.tasks / reporting.cases: one row per task / per case with what the reports need (the case's project
  and registration time on each task; the step's duration, its microseconds and a bucket; a case's path,
  consultant, distinct reason codes, money, and its two handling spans). No joins at read time.
- reporting.step_cells, reporting.handling_cells (every project), reporting.step_project_cells,
  reporting.handling_project_cells, reporting.step_values, reporting.case_cells, reporting.reason_cells (per
  project): additive counters per China month of registration. Counts and sums add up exactly; the exact
  percentiles are found in two steps — the bucket histogram (reporting.bucket: 16 buckets per doubling, exact
  integer arithmetic, monotone) says which bucket holds the rank, then the exact values inside it (step_values,
  the facts) give the value (db/reports.py). A month a period covers in part is read from the facts, or as its
  cell less the facts of the days left out.

How they stay current: a row trigger on each table they are computed from marks the case a changed row belongs
to (one INSERT into reporting.dirty; an UPDATE that changes nothing the reports read does not even call it — the
trigger's WHEN), in the writer's transaction; nothing else happens on the step path. reporting.refresh() (one
at a time: an advisory lock) takes the marks and recomputes those cases' facts from their sources (the views
reporting.task_source / case_source, the one definition), the cells getting the difference. The reports call it
first (db.reports.refresh_summaries), so they count every write committed before them; the warning sweep calls it
every few minutes so the marks never pile up. db/reports.summary_drift compares everything with a recomputation.
A first version recomputed the facts and updated the shared monthly cells inside every writer's transaction: the
refund bench's PostgreSQL CPU per case doubled and a project's concurrent steps queued on its month's rows.

The indexes: refund_cases (subscription_id) and subscriptions (transferred_from_id), for a subscription's case;
refund_cases (closed_at) and tasks (case_id, due_at) of open tasks, for the dashboard (cases closed this week, an
open case's nearest deadline from the index alone).

They live in their own schema `reporting` because they are derived data, not models (the schema check compares
the public schema with the models).

Revision ID: 0028
Revises: 0027
"""

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

NONE = -32768  # step_cells.b of the tasks without a duration (not done)

SCHEMA = f"""
CREATE SCHEMA reporting;

-- A duration's bucket: 0..15 exactly below 16 µs, then 16 per doubling (the leading bit's place and the next
-- four bits); negative durations mirror below -1. Integer arithmetic only: monotone in us, so the k-th value
-- lies in the bucket where the cumulative count passes k.
CREATE FUNCTION reporting.bucket(us bigint) RETURNS smallint LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    u bigint := abs(us);
    e integer;
    pos integer;
BEGIN
    IF u < 16 THEN
        pos := u;
    ELSE
        e := floor(ln(u::float8) / ln(2::float8))::integer;
        IF (1::bigint << e) > u THEN e := e - 1; END IF;
        IF e < 62 AND (1::bigint << (e + 1)) <= u THEN e := e + 1; END IF;
        pos := (e - 4) * 16 + (u >> (e - 4))::integer;
    END IF;
    RETURN CASE WHEN us >= 0 THEN pos ELSE -1 - pos END;
END
$$;

-- What a task contributes to the SLA report (the definitions of domain/reports.py).
CREATE VIEW reporting.task_source AS
SELECT t.id AS task_id, t.case_id, c.project_id, c.registered_at,
       (date_trunc('month', c.registered_at AT TIME ZONE 'Asia/Shanghai'))::date AS month,
       t.kind, t.role, t.status, t.due_at,
       t.status = 'done' AS done,
       t.status <> 'cancelled' AND t.due_at IS NOT NULL AS clocked,
       coalesce(t.due_at IS NOT NULL AND t.status = 'done' AND t.completed_at > t.due_at, false) AS late,
       d.dur, d.us, reporting.bucket(d.us) AS b
FROM tasks t
JOIN refund_cases c ON c.id = t.case_id
CROSS JOIN LATERAL (SELECT CASE WHEN t.status = 'done' THEN t.completed_at - t.created_at END AS dur) d0
CROSS JOIN LATERAL (SELECT d0.dur, (extract(epoch FROM d0.dur) * 1000000)::bigint AS us) d;

-- What a case contributes to the handling time, reasons and money reports.
CREATE VIEW reporting.case_source AS
SELECT c.id AS case_id, c.project_id, c.registered_at,
       (date_trunc('month', c.registered_at AT TIME ZONE 'Asia/Shanghai'))::date AS month,
       coalesce(c.outcome->>'path', 'open') AS path,
       coalesce(c.outcome->>'path', '') = 'voided' AS voided,
       s.consultant_id,
       f.case_id IS NOT NULL AS has_intake,
       CASE WHEN f.case_id IS NOT NULL THEN ARRAY(
           SELECT DISTINCT e FROM jsonb_array_elements_text(
               CASE WHEN jsonb_typeof(f.reasons) = 'array' THEN f.reasons ELSE '[]'::jsonb END) AS e
           WHERE e IS NOT NULL ORDER BY e) END AS reasons,
       c.loss_total AS loss,
       l.id IS NOT NULL AS compensated, -l.amount AS compensation,
       ri.id IS NOT NULL AS refund, ri.amount AS refund_instructed,
       coalesce(ri.status = 'paid', false) AS refund_paid,
       CASE WHEN ri.status = 'paid' THEN ri.paid_amount END AS refund_paid_amount,
       coalesce(c.outcome->>'path' = 'C' AND EXISTS (
           SELECT 1 FROM subscriptions w WHERE w.transferred_from_id = c.subscription_id AND w.fee_waived), false)
           AS fee_waived,
       o.to_outcome, o.o_us, reporting.bucket(o.o_us) AS o_b,
       o.to_archive, o.a_us, reporting.bucket(o.a_us) AS a_b
FROM refund_cases c
JOIN subscriptions s ON s.id = c.subscription_id
LEFT JOIN intake_forms f ON f.case_id = c.id
LEFT JOIN retention_ledger l ON l.case_id = c.id
LEFT JOIN refund_instructions ri ON ri.case_id = c.id
LEFT JOIN tasks a ON a.case_id = c.id AND a.task_key = 'archive'
CROSS JOIN LATERAL (
    SELECT x.to_outcome, (extract(epoch FROM x.to_outcome) * 1000000)::bigint AS o_us,
           x.to_archive, (extract(epoch FROM x.to_archive) * 1000000)::bigint AS a_us
    FROM (SELECT CASE WHEN coalesce(c.outcome->>'path', '') <> 'voided' THEN a.created_at - c.registered_at END AS to_outcome,
                 CASE WHEN coalesce(c.outcome->>'path', '') <> 'voided' THEN c.closed_at - c.registered_at END AS to_archive) x
) o;

CREATE TABLE reporting.tasks (
    task_id bigint PRIMARY KEY,
    case_id uuid NOT NULL,
    project_id integer NOT NULL,
    registered_at timestamptz NOT NULL,
    month date NOT NULL,
    kind varchar(32) NOT NULL,
    role varchar(16) NOT NULL,
    status varchar(16) NOT NULL,
    due_at timestamptz,
    done boolean NOT NULL,
    clocked boolean NOT NULL,
    late boolean NOT NULL,
    dur interval,
    us bigint,
    b smallint
);
CREATE INDEX ix_rtasks_case ON reporting.tasks (case_id);
CREATE INDEX ix_rtasks_registered ON reporting.tasks (registered_at)
    INCLUDE (project_id, kind, role, status, due_at, done, clocked, late, b);
CREATE INDEX ix_rtasks_project_registered ON reporting.tasks (project_id, registered_at)
    INCLUDE (kind, role, status, due_at, done, clocked, late, b);
CREATE INDEX ix_rtasks_open ON reporting.tasks (registered_at) INCLUDE (project_id, kind, role, due_at)
    WHERE status = 'open';
CREATE INDEX ix_rtasks_step_bucket ON reporting.tasks (kind, role, b, registered_at) INCLUDE (project_id, us, dur)
    WHERE b IS NOT NULL;
CREATE INDEX ix_rtasks_role_bucket ON reporting.tasks (role, b, registered_at) INCLUDE (project_id, us, dur)
    WHERE b IS NOT NULL;

CREATE TABLE reporting.cases (
    case_id uuid PRIMARY KEY,
    project_id integer NOT NULL,
    registered_at timestamptz NOT NULL,
    month date NOT NULL,
    path text NOT NULL,
    voided boolean NOT NULL,
    consultant_id integer NOT NULL,
    has_intake boolean NOT NULL,
    reasons text[],
    loss numeric(14, 2),
    compensated boolean NOT NULL,
    compensation numeric(14, 2),
    refund boolean NOT NULL,
    refund_instructed numeric(14, 2),
    refund_paid boolean NOT NULL,
    refund_paid_amount numeric(14, 2),
    fee_waived boolean NOT NULL,
    to_outcome interval,
    o_us bigint,
    o_b smallint,
    to_archive interval,
    a_us bigint,
    a_b smallint
);
CREATE INDEX ix_rcases_registered ON reporting.cases (registered_at)
    INCLUDE (project_id, month, path, o_b, a_b, to_outcome, to_archive);
CREATE INDEX ix_rcases_project_registered ON reporting.cases (project_id, registered_at)
    INCLUDE (month, path, o_b, a_b, to_outcome, to_archive);
CREATE INDEX ix_rcases_outcome_bucket ON reporting.cases (o_b, registered_at) INCLUDE (project_id, o_us, to_outcome)
    WHERE o_b IS NOT NULL;
CREATE INDEX ix_rcases_archive_bucket ON reporting.cases (a_b, registered_at) INCLUDE (project_id, a_us, to_archive)
    WHERE a_b IS NOT NULL;
CREATE INDEX ix_rcases_consultant ON reporting.cases (consultant_id);

-- Every project: per month, step (kind, role) and duration bucket ({NONE}: no duration).
CREATE TABLE reporting.step_cells (
    month date NOT NULL,
    kind varchar(32) NOT NULL,
    role varchar(16) NOT NULL,
    b smallint NOT NULL,
    tasks integer NOT NULL,
    done integer NOT NULL,
    clocked integer NOT NULL,
    late integer NOT NULL,
    PRIMARY KEY (month, kind, role, b)
);
-- The same per project (the reports of some projects).
CREATE TABLE reporting.step_project_cells (
    project_id integer NOT NULL,
    month date NOT NULL,
    kind varchar(32) NOT NULL,
    role varchar(16) NOT NULL,
    b smallint NOT NULL,
    tasks integer NOT NULL,
    done integer NOT NULL,
    clocked integer NOT NULL,
    late integer NOT NULL,
    PRIMARY KEY (project_id, month, kind, role, b)
);
-- Per project, month and step: how many done tasks took each exact duration (us), with that duration; keyed for
-- reading one bucket of a step (or of a department: every kind of a role).
CREATE TABLE reporting.step_values (
    role varchar(16) NOT NULL,
    b smallint NOT NULL,
    kind varchar(32) NOT NULL,
    month date NOT NULL,
    project_id integer NOT NULL,
    us bigint NOT NULL,
    n integer NOT NULL,
    dur interval NOT NULL,
    PRIMARY KEY (role, b, kind, month, project_id, us)
);
-- Every project: per month, span ('o' to outcome, 'a' to archive; voided cases not counted) and bucket.
CREATE TABLE reporting.handling_cells (
    month date NOT NULL,
    metric char(1) NOT NULL,
    b smallint NOT NULL,
    n integer NOT NULL,
    total interval NOT NULL,
    PRIMARY KEY (month, metric, b)
);
-- The same per project (the reports of some projects).
CREATE TABLE reporting.handling_project_cells (
    project_id integer NOT NULL,
    month date NOT NULL,
    metric char(1) NOT NULL,
    b smallint NOT NULL,
    n integer NOT NULL,
    total interval NOT NULL,
    PRIMARY KEY (project_id, month, metric, b)
);
-- Per month, project and path: the outcome and money figures.
CREATE TABLE reporting.case_cells (
    month date NOT NULL,
    project_id integer NOT NULL,
    path text NOT NULL,
    cases integer NOT NULL,
    loss numeric NOT NULL,
    compensated integer NOT NULL,
    compensation numeric NOT NULL,
    refunds integer NOT NULL,
    refund_instructed numeric NOT NULL,
    refunds_paid_count integer NOT NULL,
    refunds_paid numeric NOT NULL,
    fees_waived integer NOT NULL,
    PRIMARY KEY (month, project_id, path)
);
-- Per month, project and consultant: the cases with an intake (total, code '') and the cases giving each reason.
CREATE TABLE reporting.reason_cells (
    month date NOT NULL,
    project_id integer NOT NULL,
    consultant_id integer NOT NULL,
    total boolean NOT NULL,
    code text NOT NULL,
    n integer NOT NULL,
    PRIMARY KEY (month, project_id, consultant_id, total, code)
);

-- Recompute the facts of these tasks from their sources; the cells get the difference, in key order. Called by
-- reporting.refresh only (one at a time), so no writer of the records ever waits on a fact or a cell.
CREATE FUNCTION reporting.refresh_tasks(ids bigint[]) RETURNS void LANGUAGE sql AS $$
WITH k AS (SELECT DISTINCT id FROM unnest($1) AS i(id) WHERE id IS NOT NULL),
src AS (SELECT s.* FROM reporting.task_source s JOIN k ON k.id = s.task_id),
old AS (SELECT r.* FROM reporting.tasks r JOIN k ON k.id = r.task_id),
put AS (
    INSERT INTO reporting.tasks AS r SELECT * FROM src
    ON CONFLICT (task_id) DO UPDATE SET
        case_id = excluded.case_id, project_id = excluded.project_id, registered_at = excluded.registered_at,
        month = excluded.month, kind = excluded.kind, role = excluded.role, status = excluded.status,
        due_at = excluded.due_at, done = excluded.done, clocked = excluded.clocked, late = excluded.late,
        dur = excluded.dur, us = excluded.us, b = excluded.b
    WHERE (r.*) IS DISTINCT FROM (excluded.*)
),
gone AS (DELETE FROM reporting.tasks r USING old WHERE r.task_id = old.task_id
         AND NOT EXISTS (SELECT 1 FROM src WHERE src.task_id = old.task_id)),
both_ AS (SELECT 1 AS sign, month, project_id, kind, role, b, us, dur, done, clocked, late FROM src
          UNION ALL SELECT -1, month, project_id, kind, role, b, us, dur, done, clocked, late FROM old),
d_values AS (
    SELECT role, b, kind, month, project_id, us, sum(sign) AS n, min(dur) AS dur
    FROM both_ WHERE b IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6 HAVING sum(sign) <> 0
),
w_values AS (
    INSERT INTO reporting.step_values AS s SELECT * FROM d_values ORDER BY role, b, kind, month, project_id, us
    ON CONFLICT (role, b, kind, month, project_id, us) DO UPDATE SET n = s.n + excluded.n
),
d_project AS (
    SELECT project_id, month, kind, role, coalesce(b, {NONE})::smallint AS b, sum(sign) AS tasks,
           sum(sign * done::int) AS done, sum(sign * clocked::int) AS clocked, sum(sign * late::int) AS late
    FROM both_ GROUP BY 1, 2, 3, 4, 5
    HAVING sum(sign) <> 0 OR sum(sign * done::int) <> 0 OR sum(sign * clocked::int) <> 0 OR sum(sign * late::int) <> 0
),
w_project AS (
    INSERT INTO reporting.step_project_cells AS s SELECT * FROM d_project ORDER BY project_id, month, kind, role, b
    ON CONFLICT (project_id, month, kind, role, b) DO UPDATE SET
        tasks = s.tasks + excluded.tasks, done = s.done + excluded.done,
        clocked = s.clocked + excluded.clocked, late = s.late + excluded.late
),
delta AS (
    SELECT month, kind, role, coalesce(b, {NONE})::smallint AS b, sum(sign) AS tasks,
           sum(sign * done::int) AS done, sum(sign * clocked::int) AS clocked, sum(sign * late::int) AS late
    FROM both_ GROUP BY 1, 2, 3, 4
    HAVING sum(sign) <> 0 OR sum(sign * done::int) <> 0 OR sum(sign * clocked::int) <> 0 OR sum(sign * late::int) <> 0
)
INSERT INTO reporting.step_cells AS s (month, kind, role, b, tasks, done, clocked, late)
SELECT * FROM delta ORDER BY month, kind, role, b
ON CONFLICT (month, kind, role, b) DO UPDATE SET
    tasks = s.tasks + excluded.tasks, done = s.done + excluded.done,
    clocked = s.clocked + excluded.clocked, late = s.late + excluded.late
$$;

CREATE FUNCTION reporting.refresh_cases(ids uuid[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF ids IS NULL OR cardinality(ids) = 0 THEN
        RETURN;
    END IF;
    WITH k AS (SELECT DISTINCT id FROM unnest(ids) AS i(id) WHERE id IS NOT NULL),
    src AS (SELECT s.* FROM reporting.case_source s JOIN k ON k.id = s.case_id),
    old AS (SELECT r.* FROM reporting.cases r JOIN k ON k.id = r.case_id),
    put AS (
        INSERT INTO reporting.cases AS r SELECT * FROM src
        ON CONFLICT (case_id) DO UPDATE SET
            project_id = excluded.project_id, registered_at = excluded.registered_at, month = excluded.month,
            path = excluded.path, voided = excluded.voided, consultant_id = excluded.consultant_id,
            has_intake = excluded.has_intake, reasons = excluded.reasons, loss = excluded.loss,
            compensated = excluded.compensated, compensation = excluded.compensation, refund = excluded.refund,
            refund_instructed = excluded.refund_instructed, refund_paid = excluded.refund_paid,
            refund_paid_amount = excluded.refund_paid_amount, fee_waived = excluded.fee_waived,
            to_outcome = excluded.to_outcome, o_us = excluded.o_us, o_b = excluded.o_b,
            to_archive = excluded.to_archive, a_us = excluded.a_us, a_b = excluded.a_b
        WHERE (r.*) IS DISTINCT FROM (excluded.*)
    ),
    gone AS (DELETE FROM reporting.cases r USING old WHERE r.case_id = old.case_id
             AND NOT EXISTS (SELECT 1 FROM src WHERE src.case_id = old.case_id)),
    both_ AS (SELECT 1 AS sign, * FROM src UNION ALL SELECT -1, * FROM old),
    d_case AS (
        SELECT month, project_id, path, sum(sign) AS cases, sum(sign * coalesce(loss, 0)) AS loss,
               sum(sign * compensated::int) AS compensated, sum(sign * coalesce(compensation, 0)) AS compensation,
               sum(sign * refund::int) AS refunds, sum(sign * coalesce(refund_instructed, 0)) AS refund_instructed,
               sum(sign * refund_paid::int) AS refunds_paid_count,
               sum(sign * coalesce(refund_paid_amount, 0)) AS refunds_paid, sum(sign * fee_waived::int) AS fees_waived
        FROM both_ GROUP BY 1, 2, 3
    ),
    w_case AS (
        INSERT INTO reporting.case_cells AS s
        SELECT * FROM d_case
        WHERE (cases, loss, compensated, compensation, refunds, refund_instructed, refunds_paid_count, refunds_paid,
               fees_waived) IS DISTINCT FROM (0, 0, 0, 0, 0, 0, 0, 0, 0)
        ORDER BY month, project_id, path
        ON CONFLICT (month, project_id, path) DO UPDATE SET
            cases = s.cases + excluded.cases, loss = s.loss + excluded.loss,
            compensated = s.compensated + excluded.compensated, compensation = s.compensation + excluded.compensation,
            refunds = s.refunds + excluded.refunds, refund_instructed = s.refund_instructed + excluded.refund_instructed,
            refunds_paid_count = s.refunds_paid_count + excluded.refunds_paid_count,
            refunds_paid = s.refunds_paid + excluded.refunds_paid, fees_waived = s.fees_waived + excluded.fees_waived
    ),
    d_reason AS (
        SELECT month, project_id, consultant_id, total, code, sum(sign) AS n
        FROM (SELECT sign, month, project_id, consultant_id, true AS total, '' AS code FROM both_ WHERE has_intake
              UNION ALL
              SELECT sign, month, project_id, consultant_id, false, code FROM both_, unnest(reasons) AS code
              WHERE has_intake) x
        GROUP BY 1, 2, 3, 4, 5 HAVING sum(sign) <> 0
    ),
    w_reason AS (
        INSERT INTO reporting.reason_cells AS s
        SELECT * FROM d_reason ORDER BY month, project_id, consultant_id, total, code
        ON CONFLICT (month, project_id, consultant_id, total, code) DO UPDATE SET n = s.n + excluded.n
    ),
    d_handling AS (
        SELECT project_id, month, metric, b, sum(sign) AS n, sum(sign * span) AS total
        FROM (SELECT sign, project_id, month, 'o' AS metric, o_b AS b, to_outcome AS span FROM both_
              WHERE to_outcome IS NOT NULL
              UNION ALL
              SELECT sign, project_id, month, 'a', a_b, to_archive FROM both_ WHERE to_archive IS NOT NULL) x
        GROUP BY 1, 2, 3, 4 HAVING sum(sign) <> 0 OR sum(sign * span) <> interval '0'
    ),
    w_handling_project AS (
        INSERT INTO reporting.handling_project_cells AS s
        SELECT * FROM d_handling ORDER BY project_id, month, metric, b
        ON CONFLICT (project_id, month, metric, b) DO UPDATE SET n = s.n + excluded.n, total = s.total + excluded.total
    )
    INSERT INTO reporting.handling_cells AS s
    SELECT month, metric, b, sum(n), sum(total) FROM d_handling GROUP BY 1, 2, 3
    HAVING sum(n) <> 0 OR sum(total) <> interval '0'
    ORDER BY month, metric, b
    ON CONFLICT (month, metric, b) DO UPDATE SET n = s.n + excluded.n, total = s.total + excluded.total;
END
$$;

-- The cases whose facts may be out of date: appended by the records' triggers (no key, so a writer never waits on
-- another), taken by reporting.refresh.
CREATE TABLE reporting.dirty (case_id uuid NOT NULL);

-- Recompute the facts (and through them the cells) of every marked case; returns how many cases. One at a time; a
-- mark committed after this statement's snapshot stays for the next call.
CREATE FUNCTION reporting.refresh() RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    ids uuid[];
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('reporting.refresh'));
    WITH d AS (DELETE FROM reporting.dirty RETURNING case_id)
    SELECT array_agg(DISTINCT case_id ORDER BY case_id) INTO ids FROM d;
    IF ids IS NULL THEN
        RETURN 0;
    END IF;
    PERFORM reporting.refresh_tasks(ARRAY(SELECT id FROM tasks WHERE case_id = ANY(ids)
                                          UNION SELECT task_id FROM reporting.tasks WHERE case_id = ANY(ids)));
    PERFORM reporting.refresh_cases(ids);
    RETURN cardinality(ids);
END
$$;
"""


# What marks a case: per table, the case(s) a row belongs to (NEW / OLD), when an UPDATE marks the old one's too
# (the row moved), and the columns the reports read (an UPDATE changing none of them marks nothing).
MARKS = {
    "tasks": ("SELECT NEW.case_id", "SELECT OLD.case_id", "OLD.case_id IS DISTINCT FROM NEW.case_id",
              "case_id, task_key, kind, role, status, due_at, created_at, completed_at"),
    "refund_cases": ("SELECT NEW.id", "SELECT OLD.id", "false",
                     "project_id, subscription_id, registered_at, outcome, loss_total, closed_at"),
    "intake_forms": ("SELECT NEW.case_id", "SELECT OLD.case_id", "OLD.case_id IS DISTINCT FROM NEW.case_id",
                     "case_id, reasons"),
    "refund_instructions": ("SELECT NEW.case_id", "SELECT OLD.case_id", "OLD.case_id IS DISTINCT FROM NEW.case_id",
                            "case_id, amount, status, paid_amount"),
    "retention_ledger": ("SELECT NEW.case_id WHERE NEW.case_id IS NOT NULL",
                         "SELECT OLD.case_id WHERE OLD.case_id IS NOT NULL", "OLD.case_id IS DISTINCT FROM NEW.case_id",
                         "case_id, amount"),
    # A case reads its subscription's consultant, and whether a fee-waived transfer was made from it.
    "subscriptions": ("SELECT c.id FROM refund_cases c WHERE c.subscription_id IN (NEW.id, NEW.transferred_from_id)",
                      "SELECT c.id FROM refund_cases c WHERE c.subscription_id IN (OLD.id, OLD.transferred_from_id)",
                      "OLD.transferred_from_id IS DISTINCT FROM NEW.transferred_from_id",
                      "consultant_id, transferred_from_id, fee_waived"),
}


def _function(table: str) -> str:
    new, old, moved, _ = MARKS[table]
    return f"""
CREATE FUNCTION reporting.mark_{table}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO reporting.dirty (case_id) {new};
    END IF;
    IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND ({moved})) THEN
        INSERT INTO reporting.dirty (case_id) {old};
    END IF;
    RETURN NULL;
END
$$;"""


def upgrade() -> None:
    op.create_index("ix_refund_cases_subscription_id", "refund_cases", ["subscription_id"])
    op.create_index("ix_subscriptions_transferred_from_id", "subscriptions", ["transferred_from_id"],
                    postgresql_where=sa.text("transferred_from_id IS NOT NULL"))
    op.create_index("ix_refund_cases_closed_at", "refund_cases", ["closed_at"],
                    postgresql_where=sa.text("closed_at IS NOT NULL"))
    op.create_index("ix_tasks_open_case_due", "tasks", ["case_id", "due_at"], postgresql_where=sa.text("status = 'open'"))
    op.execute(SCHEMA)
    for table, (_, _, _, columns) in MARKS.items():
        op.execute(_function(table))
        op.execute(f"CREATE TRIGGER reporting_mark AFTER INSERT OR DELETE ON {table} "
                   f"FOR EACH ROW EXECUTE FUNCTION reporting.mark_{table}()")
        changed = " OR ".join(f"OLD.{c.strip()} IS DISTINCT FROM NEW.{c.strip()}" for c in columns.split(","))
        op.execute(f"CREATE TRIGGER reporting_mark_update AFTER UPDATE ON {table} "
                   f"FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION reporting.mark_{table}()")
    # The facts of what exists already.
    op.execute("SELECT reporting.refresh_tasks(ARRAY(SELECT id FROM tasks))")
    op.execute("SELECT reporting.refresh_cases(ARRAY(SELECT id FROM refund_cases))")


def downgrade() -> None:
    for table in MARKS:
        op.execute(f"DROP TRIGGER reporting_mark ON {table}")
        op.execute(f"DROP TRIGGER reporting_mark_update ON {table}")
    op.execute("DROP SCHEMA reporting CASCADE")
    op.drop_index("ix_tasks_open_case_due", table_name="tasks")
    op.drop_index("ix_refund_cases_closed_at", table_name="refund_cases")
    op.drop_index("ix_subscriptions_transferred_from_id", table_name="subscriptions")
    op.drop_index("ix_refund_cases_subscription_id", table_name="refund_cases")
