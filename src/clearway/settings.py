"""One settings object, read from `CLEARWAY_*` environment variables and an optional `.env`."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

SERVICES = ("identity", "rules", "orders", "monitor", "common")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CLEARWAY_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # Where the embedded engines keep their files (databases, queue, keys, mailbox, files).
    data_dir: Path = Path(".clearway")
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = "http://localhost:8000"
    # `clearway up --workers N`: N processes serve the whole platform on the port, and (when
    # N > 1) a background process runs the jobs and ingests telemetry. One per core.
    workers: int = Field(default=1, ge=1, description="Serving processes for `clearway up`.")

    # Root secret that encrypts the master private key at rest. When unset, one is generated on
    # first start and kept in `<data_dir>/root.secret` (readable by the owner only).
    root_secret: SecretStr | None = None

    # First administrator. When the password is unset, one is generated and printed once.
    admin_email: str = "admin@clearway.example"
    admin_password: SecretStr | None = None
    # Also seed a customer and a verified provider (`clearway up --demo`).
    demo: bool = False

    # A URL template per service; `{service}` is replaced by the service name. Empty means
    # SQLite files under the data directory.
    database_url: str = ""

    # "embedded" (a durable queue in SQLite under the data directory) or a nats:// URL.
    bus_url: str = "embedded"
    bus_max_attempts: int = Field(default=5, ge=1)
    bus_retry_base_seconds: float = Field(default=0.5, gt=0)

    # Rate limits: "memory" or a redis:// URL for counters shared by several gateways.
    ratelimit_backend: str = "memory"
    ratelimit_user_per_second: float = 50.0
    ratelimit_user_burst: int = 100
    ratelimit_address_per_second: float = 20.0
    ratelimit_address_burst: int = 40
    # Login, registration and password reset form a stricter class.
    ratelimit_auth_per_second: float = 1.0
    ratelimit_auth_burst: int = 10

    # Cache invalidation messages between processes: "memory" (one process) or a redis:// URL.
    cache_backend: str = "memory"

    # Processes mode (`clearway up --processes`, `clearway serve SERVICE`): where each service
    # listens. A JSON map of service to base URL (CLEARWAY_SERVICE_URLS); a service not in it
    # is at http://127.0.0.1:<service_port_base + its place in SERVICES>.
    service_urls: dict[str, str] = {}
    service_port_base: int = 8100

    body_limit_bytes: int = 1_048_576
    upstream_timeout_seconds: float = 10.0
    cors_origins: list[str] = []

    access_token_ttl_seconds: int = Field(default=900, ge=30, le=900)
    refresh_token_ttl_seconds: int = 30 * 24 * 3600
    jwt_issuer: str = "clearway"
    jwt_audience: str = "clearway-api"
    password_reset_ttl_seconds: int = 3600
    # argon2id cost (RFC 9106 second recommendation by default: 64 MiB, 3 passes).
    argon2_memory_kib: int = Field(default=65536, ge=1024)
    argon2_time_cost: int = Field(default=3, ge=1)
    # Sign-in throttling slows the guesser, never locks the owner out: per account and client
    # address, `login_free_failures` wrong passwords, then a wait that doubles with each further
    # one, from `login_backoff_seconds` up to `login_backoff_max_seconds`.
    login_free_failures: int = Field(default=5, ge=1)
    login_backoff_seconds: float = Field(default=1.0, gt=0)
    login_backoff_max_seconds: float = Field(default=900.0, gt=0)
    # Passwords hashed at once per process (argon2 takes a core and its memory for each), and
    # how many more may wait for a turn; beyond that the answer is 503 with Retry-After.
    password_hashing_concurrency: int = Field(default=2, ge=1)
    password_hashing_queue: int = Field(default=16, ge=0)
    # Administrators must sign in with a second factor (TOTP); they enrol at their next sign-in.
    require_admin_mfa: bool = False

    # Data keys are cached after unwrapping, bounded by age and number of uses.
    data_key_cache_seconds: float = 300.0
    data_key_cache_uses: int = 100_000

    # Mail: "mailbox" keeps mail in a local mailbox; "smtp" delivers through smtp_host.
    mail_backend: Literal["mailbox", "smtp"] = "mailbox"
    mail_from: str = "Clearway <no-reply@clearway.example>"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False

    # Prometheus metrics on their own listener (never through the gateway); unset: off.
    metrics_host: str = "127.0.0.1"
    metrics_port: int | None = None
    # Events a service has applied are remembered this long to absorb redeliveries.
    inbox_retention_days: int = Field(default=30, ge=1)

    log_level: str = "info"
    # One JSON object per log line, carrying the request id (for log shippers).
    log_json: bool = False

    # Orders: a provider answers an order within this many days or it expires; it is reminded
    # this many hours before. Customers are warned this many days before a report expires.
    orders_answer_within_days: int = Field(default=7, ge=1)
    orders_reminder_before_hours: int = Field(default=24, ge=1)
    orders_report_warning_days: int = Field(default=30, ge=1)
    # Largest attachment accepted (the gateway's body limit applies first; base64 adds a third).
    orders_attachment_max_bytes: int = Field(default=768 * 1024, ge=1)
    orders_jobs_interval_seconds: float = Field(default=900.0, gt=0)

    # Monitor retention: raw request, search and activity records; hour and day roll-ups.
    monitor_raw_retention_days: int = 14
    monitor_rollup_retention_days: int = 400

    # NATS bus (bus_url nats://...): the JetStream stream, also the subjects' prefix in lower
    # case; how long the server remembers event ids to drop a re-published copy; how long it
    # keeps events, so the longest a service may be down without missing any (docs/nats.md).
    bus_stream: str = Field(default="CLEARWAY", pattern=r"^[A-Za-z0-9_-]+$")
    bus_duplicate_window_seconds: float = Field(default=120.0, gt=0)
    bus_max_age_hours: float = Field(default=72.0, gt=0)

    @cached_property
    def resolved_data_dir(self) -> Path:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return self.data_dir.resolve()

    def service_url(self, service: str) -> str:
        if service in self.service_urls:
            return self.service_urls[service].rstrip("/")
        return f"http://127.0.0.1:{self.service_port_base + SERVICES.index(service)}"

    def database_url_for(self, service: str) -> str:
        if self.database_url:
            return self.database_url.replace("{service}", service)
        return f"sqlite+aiosqlite:///{self.resolved_data_dir / f'{service}.db'}"
