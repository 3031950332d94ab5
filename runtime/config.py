"""Runtime configuration, read once from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_DATABASE_URL = "sqlite:///var/stream_cast.db"
DEV_JWT_SECRET = "dev-secret-change-me-in-production-0123456789"


class ConfigError(Exception):
    """A configuration value is missing or malformed; the message says which and why."""


@dataclass(frozen=True)
class Config:
    database_url: str = DEFAULT_DATABASE_URL
    events_url: str = "memory://"
    jwt_algorithm: str = "HS256"
    jwt_key: str = DEV_JWT_SECRET  # the HS256 secret, or the RS256 public key (PEM)
    jwt_private_key: str | None = None  # RS256 only: lets `runtime token` mint tokens
    max_body_bytes: int = 64 * 1024
    heartbeat_s: float = 15.0
    send_timeout_s: float = 30.0  # a stream whose client reads nothing this long is dropped
    event_buffer: int = 1000  # events kept per tenant channel for Last-Event-ID resume
    stream_queue: int = 1000  # events a slow subscriber may lag behind before it is dropped
    streams_per_user: int = 20  # open streams one user may hold on a worker (0: no cap)
    streams_per_tenant: int = 2000  # open streams of one tenant on a worker (0: no cap)
    body_timeout_s: float = 10.0  # a request body must arrive within this
    pool_size: int = 4
    busy_timeout_ms: int = 5000
    history: bool = True
    environment: str = "development"  # or "production": stricter defaults, no demo secret
    open_routes: str = "allow"  # "protect": unauthenticated routes need a token or the key
    internal_key: str | None = None  # the X-Internal-Key that opens protected routes
    rate_limit_url: str = "memory://"  # where metabuilder.rateLimit counts (redis:// shared)
    http_allow: tuple[str, ...] = ()  # outbound hosts, host:port or CIDR ranges allowed
    http_timeout_s: float = 10.0  # an outbound HTTP call's default timeout
    http_max_bytes: int = 10 * 1024 * 1024  # an outbound response's largest body
    self_url: str | None = None  # base of relative httpRequest URLs (default: the request's)
    smtp_url: str | None = None  # smtp://user:pass@host:port, smtps://... (None: mail waits)
    mail_from: str = "noreply@localhost"
    storage_root: str = "var/storage"  # the only tree media and file operations may touch
    ffprobe: str = "ffprobe"
    media_timeout_s: float = 10.0
    outbox_poll_s: float = 1.0  # how often a worker looks for undelivered effects
    log_requests: bool = False  # one log line per request (LOG_REQUESTS=on)
    metrics: str = "open"  # /metrics: "open", "protect" (operator only) or "off"
    metrics_port: int | None = None  # serve the metrics on a port of their own instead
    console: str = "protect"  # /console: "open" (make run's demo), "protect" or "off"
    operator_level: int = 4  # a token's level that opens the console and metrics

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def sqlite_path(self) -> str:
        return self.database_url.split("///", 1)[1].split("?", 1)[0]


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None
    if value < 0:
        raise ConfigError(f"{name} must not be negative, got {value}")
    return value


_DRIVER_SPELLINGS = {  # SQLAlchemy's and `databases`' names for the drivers the runtime uses
    "sqlite+aiosqlite://": "sqlite://",
    "postgresql+asyncpg://": "postgresql://",
    "postgres://": "postgresql://",
}


def database_url(url: str) -> str:
    """``url`` in the runtime's spelling (``sqlite:///path`` or ``postgresql://...``); the
    spellings with the driver named (``sqlite+aiosqlite://``, ``postgresql+asyncpg://``) and
    ``postgres://`` mean the same. ConfigError for anything else."""
    for given, canonical in _DRIVER_SPELLINGS.items():
        if url.startswith(given):
            url = canonical + url[len(given) :]
    if not url.startswith(("sqlite:///", "postgresql://")):
        raise ConfigError(
            f"DATABASE_URL {url!r} is not supported: use sqlite:///path (or "
            "sqlite+aiosqlite:///path) or postgresql://... (or postgresql+asyncpg://...)"
        )
    return url


def _choice(env: Mapping[str, str], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = env.get(name) or default
    if value not in allowed:
        raise ConfigError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
    return value


def load(env: Mapping[str, str] | None = None) -> Config:
    """The configuration from ``env`` (default ``os.environ``); ConfigError when invalid."""
    env = os.environ if env is None else env
    url = database_url(env.get("DATABASE_URL") or DEFAULT_DATABASE_URL)
    events = env.get("EVENTS_URL") or "memory://"
    if not events.startswith(("memory://", "redis://", "rediss://")):
        raise ConfigError(
            f"EVENTS_URL {events!r} is not supported: use redis://host:port/db, or leave it "
            "unset for the in-process bus of a single worker"
        )
    secret, public = env.get("JWT_SECRET"), env.get("JWT_PUBLIC_KEY")
    if secret and public:
        raise ConfigError("set JWT_SECRET (HS256) or JWT_PUBLIC_KEY (RS256), not both")
    if public:
        algorithm, key = "RS256", public
    else:
        algorithm, key = "HS256", secret or DEV_JWT_SECRET
    wanted = env.get("JWT_ALGORITHM")
    if wanted and wanted != algorithm:
        raise ConfigError(
            f"JWT_ALGORITHM is {wanted} but the key configured is for {algorithm} "
            "(JWT_SECRET means HS256, JWT_PUBLIC_KEY means RS256)"
        )
    environment = env.get("RUNTIME_ENV") or "development"
    if environment not in ("development", "production"):
        raise ConfigError(f"RUNTIME_ENV must be development or production, got {environment!r}")
    production = environment == "production"
    if production and key == DEV_JWT_SECRET:
        raise ConfigError(
            "RUNTIME_ENV=production needs JWT_SECRET or JWT_PUBLIC_KEY: the development "
            "secret is public"
        )
    open_routes = env.get("OPEN_ROUTES") or ("protect" if production else "allow")
    if open_routes not in ("allow", "protect"):
        raise ConfigError(f"OPEN_ROUTES must be allow or protect, got {open_routes!r}")
    internal_key = env.get("INTERNAL_KEY") or None
    if internal_key is not None and len(internal_key) < 32:
        raise ConfigError("INTERNAL_KEY must be at least 32 characters (a random secret)")
    rate_url = env.get("RATE_LIMIT_URL") or (
        events if events.startswith(("redis://", "rediss://")) else "memory://"
    )
    if not rate_url.startswith(("memory://", "redis://", "rediss://")):
        raise ConfigError(f"RATE_LIMIT_URL {rate_url!r}: use redis://host:port/db or memory://")
    smtp = env.get("SMTP_URL") or None
    if smtp is not None and not smtp.startswith(("smtp://", "smtps://")):
        raise ConfigError(f"SMTP_URL {smtp!r}: use smtp://[user:pass@]host[:port] or smtps://")
    default_access = "protect" if production else "open"
    allow = tuple(h.strip() for h in (env.get("HTTP_ALLOW_HOSTS") or "").split(",") if h.strip())
    return Config(
        rate_limit_url=rate_url,
        http_allow=allow,
        http_timeout_s=max(1, _int(env, "HTTP_TIMEOUT_MS", 10_000)) / 1000,
        http_max_bytes=_int(env, "HTTP_MAX_RESPONSE_BYTES", 10 * 1024 * 1024),
        self_url=(env.get("SELF_URL") or "").rstrip("/") or None,
        smtp_url=smtp,
        mail_from=env.get("MAIL_FROM") or "noreply@localhost",
        storage_root=env.get("STORAGE_ROOT") or "var/storage",
        ffprobe=env.get("FFPROBE") or "ffprobe",
        media_timeout_s=max(1, _int(env, "MEDIA_TIMEOUT_MS", 10_000)) / 1000,
        outbox_poll_s=max(50, _int(env, "OUTBOX_POLL_MS", 1000)) / 1000,
        database_url=url,
        events_url=events,
        jwt_algorithm=algorithm,
        jwt_key=key,
        jwt_private_key=env.get("JWT_PRIVATE_KEY") or None,
        max_body_bytes=_int(env, "MAX_BODY_BYTES", 64 * 1024),
        heartbeat_s=_int(env, "SSE_HEARTBEAT_MS", 15000) / 1000,
        send_timeout_s=max(1, _int(env, "SSE_SEND_TIMEOUT_MS", 30_000)) / 1000,
        event_buffer=_int(env, "EVENT_BUFFER", 1000),
        stream_queue=_int(env, "STREAM_QUEUE", 1000),
        streams_per_user=_int(env, "MAX_STREAMS_PER_USER", 20),
        streams_per_tenant=_int(env, "MAX_STREAMS_PER_TENANT", 2000),
        body_timeout_s=max(1, _int(env, "BODY_TIMEOUT_MS", 10_000)) / 1000,
        pool_size=max(1, _int(env, "DB_POOL_SIZE", 4)),
        busy_timeout_ms=_int(env, "SQLITE_BUSY_TIMEOUT_MS", 5000),
        history=env.get("EXECUTION_HISTORY", "on") != "off",
        environment=environment,
        open_routes=open_routes,
        internal_key=internal_key,
        log_requests=(env.get("LOG_REQUESTS") or "off") in ("on", "1", "true"),
        metrics=_choice(env, "METRICS", ("open", "protect", "off"), default_access),
        metrics_port=_int(env, "METRICS_PORT", 0) or None,
        # The console shows every tenant's executions and events: open only when asked
        # (`make run`'s demo), whatever the environment.
        console=_choice(env, "CONSOLE", ("open", "protect", "off"), "protect"),
        operator_level=_int(env, "OPERATOR_LEVEL", 4),
    )
