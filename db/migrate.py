"""Run Alembic migrations to head: `python -m db.migrate` (URL from DATABASE_URL)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str) -> None:
    command.upgrade(alembic_config(url), "heads")


if __name__ == "__main__":
    from config.settings import get_settings

    settings = get_settings()
    if not settings.database_url:
        raise SystemExit("DATABASE_URL is not set")
    upgrade(settings.database_url)
