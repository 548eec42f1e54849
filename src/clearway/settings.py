"""One settings object, read from `CLEARWAY_*` environment variables and an optional `.env`."""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from clearway.kit.owner_only import owner_only_directory

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
    # Connections the kernel holds for each listener before the server accepts them: a burst
    # of thousands of new clients (a load test, a reconnect storm) waits here instead of being
    # refused. The kernel caps it at net.core.somaxconn.
    backlog: int = Field(default=2048, ge=16, le=65535)

    # Root secret that encrypts the master private key at rest. When unset, it is read from
    # root_secret_file, generated there on first start (owner-only): outside the data
    # directory, so a copy of the data does not carry the key that opens it.
    root_secret: SecretStr | None = None
    # Default: $XDG_CONFIG_HOME/clearway/root.secret, else ~/.config/clearway/root.secret.
    root_secret_file: Path | None = None

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
    # Routes of the "upload" class (documents): the largest file, base64-encoded, and its JSON.
    body_limit_upload_bytes: int = Field(default=36 * 1_048_576, ge=1)
    # The edge (docs/security.md): what one connection may cost the server, whatever the client.
    # A request head (request line and headers) larger than this, or with more header lines, is
    # refused with 431; a head not complete within the header timeout, or a body not complete
    # within the body timeout, with 408. Beyond max_connections a new connection is refused
    # with 503 (per process).
    edge_max_header_bytes: int = Field(default=32_768, ge=1024)
    edge_max_headers: int = Field(default=100, ge=8)
    edge_header_timeout_seconds: float = Field(default=20.0, gt=0)
    edge_body_timeout_seconds: float = Field(default=60.0, gt=0)
    edge_max_connections: int = Field(default=1000, ge=1)
    # Proxies whose X-Forwarded-For/-Proto are believed (comma-separated addresses or networks,
    # `*` for any). Empty: no proxy is trusted, the client is the peer of the connection.
    forwarded_allow_ips: str = ""
    upstream_timeout_seconds: float = 10.0
    # Requests the services work on at once per gateway process
    # (gateway/admission.py); the others queue in arrival order, and one that waited longer than
    # the queue timeout is answered 503 with Retry-After. Unset: 32 where the services share the
    # gateway's process (and its event loop), 256 where they run elsewhere.
    gateway_max_in_flight: int | None = Field(default=None, ge=1)
    gateway_queue_timeout_seconds: float = Field(default=30.0, gt=0)
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
    # Largest attachment accepted (the gateway's upload body limit applies first; base64 adds
    # a third), and how much all attachments of one order, and all a user uploaded, may take.
    orders_attachment_max_bytes: int = Field(default=25 * 1_048_576, ge=1)
    orders_order_storage_bytes: int = Field(default=250 * 1_048_576, ge=1)
    orders_user_storage_bytes: int = Field(default=1024 * 1_048_576, ge=1)
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

    # PostgreSQL behind a transaction-pooling proxy (RDS Proxy, PgBouncer): a prepared statement
    # made on one server connection is unknown on the next, so asyncpg's statement cache is off.
    database_statement_cache: bool = True

    # AWS (docs/aws.md): bus_url "sns-sqs://<name prefix>" (SNS FIFO topic, one SQS FIFO queue
    # per service); keys_backend "kms" (master keys are KMS asymmetric keys under an alias
    # prefix); files_backend "s3" (one bucket, SSE-KMS). aws_endpoint_url points the clients at
    # a stand-in (moto) for tests and local runs. The template names the resources, so a
    # deployed function never creates any (bus_topic_arn, files_bucket).
    # On Lambda: the part this function runs ("gateway" or a service), and the function of each
    # part it invokes (a JSON map of part to function name or ARN; default `clearway-<part>`).
    lambda_part: str = ""
    lambda_functions: dict[str, str] = {}
    aws_region: str = "eu-central-1"
    aws_endpoint_url: str | None = None
    bus_topic_arn: str = ""
    bus_visibility_seconds: int = Field(default=60, ge=1, le=43200)
    keys_backend: Literal["local", "kms"] = "local"
    kms_alias_prefix: str = "alias/clearway/master"
    # The key service function (Lambda) that alone may call KMS Decrypt; unset: call KMS here.
    kms_unwrap_function: str = ""
    secrets_prefix: str = "clearway/"
    files_backend: Literal["local", "s3"] = "local"
    files_bucket: str = ""
    files_kms_key_id: str = ""

    @cached_property
    def resolved_data_dir(self) -> Path:
        return owner_only_directory(self.data_dir).resolve()

    @cached_property
    def resolved_root_secret_file(self) -> Path:
        if self.root_secret_file is not None:
            return self.root_secret_file.expanduser().resolve()
        config = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
        return Path(config) / "clearway" / "root.secret"

    def service_url(self, service: str) -> str:
        if service in self.service_urls:
            return self.service_urls[service].rstrip("/")
        return f"http://127.0.0.1:{self.service_port_base + SERVICES.index(service)}"

    def database_url_for(self, service: str) -> str:
        if self.database_url:
            return self.database_url.replace("{service}", service)
        return f"sqlite+aiosqlite:///{self.resolved_data_dir / f'{service}.db'}"
