"""One Settings class: everything configurable, read from the environment (prefix-free names)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Development-only keys. A production deployment sets its own (docker-compose.yml does);
# with these defaults the data is encrypted but anyone with the repository could decrypt it.
DEV_SECRET_KEY = "estateflow-dev-secret-change-me-0123456789abcdef"
DEV_DATA_KEY = "ZXN0YXRlZmxvdy1kZXYtZGF0YS1rZXktMzJieXRlcyE="  # urlsafe base64 of 32 bytes
DEV_BLIND_INDEX_KEY = "estateflow-dev-blind-index-key"


DEV_KEYS = {"SECRET_KEY": DEV_SECRET_KEY, "DATA_KEY": DEV_DATA_KEY, "BLIND_INDEX_KEY": DEV_BLIND_INDEX_KEY}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    # "development" (make run, the tests) or "production": a production process refuses to start with any
    # of the development keys that ship in this repository.
    environment: Literal["development", "production"] = "development"

    # PostgreSQL. Empty means: the embedded server under DATA_DIR/pg (started by scripts/run.py).
    database_url: str = ""
    data_dir: Path = PROJECT_ROOT / ".data"

    # Temporal. Empty address means: the dev server started by scripts/run.py on temporal_port.
    temporal_address: str = ""
    temporal_namespace: str = "default"
    # How long the engine keeps a closed run's history (the namespace's retention, set by the worker at start).
    # The case's own record in PostgreSQL is kept for two years (retain_until); the timeline falls back to it.
    temporal_retention_days: int = Field(default=30, ge=1, le=3650)
    temporal_task_queue: str = "estateflow-refund"
    temporal_port: int = 7233
    temporal_ui_port: int = 8233
    temporal_ui_url: str = ""

    api_host: str = "127.0.0.1"
    api_port: int = 8000

    secret_key: str = DEV_SECRET_KEY
    # Sign-in (docs/decisions.md, "Sign-in sessions"): an access token lives this long; the web app
    # exchanges its refresh token for a new one. A session ends at sign-out, after session_hours from
    # sign-in, or after session_idle_minutes without a refresh.
    access_token_minutes: float = Field(default=15, gt=0)
    session_hours: float = Field(default=12, gt=0)
    session_idle_minutes: float = Field(default=120, gt=0)
    data_key: str = DEV_DATA_KEY
    blind_index_key: str = DEV_BLIND_INDEX_KEY

    # Failed sign-ins (db/signin_throttle.py): signin_account_max_failures within signin_window_minutes for
    # one username, or signin_address_max_failures for one client address, lock that username (or address)
    # for signin_lock_minutes: sign-in answers 429 with Retry-After, even with the right password.
    # The address is the connection's peer (request.client.host); behind a reverse proxy that is the proxy,
    # unless uvicorn is told to trust its X-Forwarded-For (--forwarded-allow-ips). Addresses listed in
    # signin_unthrottled_addresses (comma-separated; loopback by default: a reverse proxy on the same host,
    # the tests' in-process client) are never locked as an address, only their usernames are: else one
    # person's 20 wrong passwords would lock everyone behind that proxy out.
    signin_account_max_failures: int = Field(default=5, ge=1)
    signin_address_max_failures: int = Field(default=20, ge=1)
    signin_window_minutes: float = Field(default=15, gt=0)
    signin_lock_minutes: float = Field(default=15, gt=0)
    signin_unthrottled_addresses: str = "127.0.0.1,::1"

    # Evidence uploads on refund cases (stored under data_dir/evidence): the largest file accepted.
    evidence_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1)
    # The absolute URL the sales-office QR codes point at (e.g. https://estateflow.example.com/);
    # empty means the URL the request came in on.
    public_base_url: str = ""

    # E-mail notices (SMTP with STARTTLS and AUTH; workers/channels/email.py). No host: no e-mail is sent
    # (a person's e-mail deliveries wait, visible to ops, until one is set).
    smtp_host: str = ""
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_sender: str = "EstateFlow <estateflow@localhost>"
    smtp_starttls: bool = True

    # The daily records-retention sweep (PIPL; db/retention.py) starts at this hour, China time (UTC+8): closed
    # refund cases past retain_until that no legal hold keeps lose their personal data.
    anonymise_at_hour: int = Field(default=3, ge=0, le=23)

    # Divides every SLA duration for training drills and demos (1 = real time).
    estateflow_drill_speedup: int = Field(default=1, ge=1)

    # ---- no hang, ever (docs/decisions.md, "Bounded waits") -------------------------------------
    # The API's sync routes run on anyio's thread limiter; each running route holds at most one pooled
    # connection, so the pool is as wide as the limiter and a route never waits for a connection.
    api_threads: int = Field(default=40, ge=4)
    db_pool_size: int = Field(default=20, ge=1)
    db_max_overflow: int = Field(default=20, ge=0)
    # A pool that is exhausted anyway (a leak, a misconfiguration) answers 503 after this, not a hang.
    db_pool_timeout_s: float = Field(default=5.0, gt=0)
    # Every transaction, API and worker: a row lock waited for longer is a 409 "try again"; a statement
    # running longer is cancelled (503); a session idle inside a transaction is ended by PostgreSQL
    # (the last resort: it must exceed the longest legitimate wait inside a transaction, the engine call).
    db_lock_timeout_ms: int = Field(default=3000, ge=0)
    db_statement_timeout_ms: int = Field(default=15000, ge=0)
    db_idle_in_transaction_timeout_ms: int = Field(default=60000, ge=0)
    # Every Temporal call the API makes: each RPC's deadline, and the whole call's (an update polls).
    temporal_rpc_timeout_s: float = Field(default=5.0, gt=0)
    temporal_call_timeout_s: float = Field(default=10.0, gt=0)
    # At most this many refund registrations run at once (each holds a thread, a connection and, for a
    # moment, its unit's row lock while it waits for the engine); the rest wait without holding
    # anything, for at most registration_wait_s, then get a 503 with Retry-After.
    registration_concurrency: int = Field(default=8, ge=1)
    registration_wait_s: float = Field(default=15.0, gt=0)

    # ---- observability (docs/decisions.md, "Observability"; README "Observability") -----------------
    # Logs: one JSON object per line on stderr ("console": the same fields, readable, for a terminal).
    log_format: Literal["json", "console"] = "json"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # Traces: exported over OTLP/HTTP to this base URL (e.g. http://otel-collector:4318; /v1/traces is
    # appended). Empty: tracing is off — no instrumentation is installed at all.
    otel_exporter_otlp_endpoint: str = ""
    # The business metrics on /metrics are read from PostgreSQL at scrape time; a scrape within this many
    # seconds of the last one is answered from the last reading (several scrapers, several API processes).
    metrics_cache_s: float = Field(default=10.0, ge=0)
    # The worker's Temporal SDK metrics (Prometheus text) on http://WORKER_METRICS_HOST:WORKER_METRICS_PORT/metrics;
    # 0: not served.
    worker_metrics_port: int = Field(default=0, ge=0, le=65535)
    worker_metrics_host: str = "127.0.0.1"

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, v: object) -> object:
        return v.upper() if isinstance(v, str) else v

    @field_validator("database_url")
    @classmethod
    def _sqlalchemy_driver(cls, v: str) -> str:
        if v.startswith("postgres://"):
            v = "postgresql://" + v[len("postgres://") :]
        if v.startswith("postgresql://"):
            v = "postgresql+psycopg2://" + v[len("postgresql://") :]
        if v and not v.startswith("postgresql+psycopg2://"):
            raise ValueError("DATABASE_URL must be a PostgreSQL URL (postgresql://...)")
        return v

    @model_validator(mode="after")
    def _no_development_keys_in_production(self) -> "Settings":
        if self.environment == "production" and (found := self.development_keys()):
            raise ValueError(
                f"ENVIRONMENT=production refuses the development key(s) that ship in the repository: "
                f"{', '.join(found)}; set your own (see docker-compose.yml)"
            )
        return self

    def development_keys(self) -> list[str]:
        """The names of the keys still set to the repository's development values."""
        return [name for name, dev in DEV_KEYS.items() if getattr(self, name.lower()) == dev]

    @property
    def temporal_target(self) -> str:
        return self.temporal_address or f"127.0.0.1:{self.temporal_port}"

    @property
    def temporal_ui_base(self) -> str:
        return self.temporal_ui_url or f"http://127.0.0.1:{self.temporal_ui_port}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
