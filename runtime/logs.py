"""Logging for the server and the command line: ``LOG_LEVEL`` and ``LOG_FORMAT``.

The runtime's own loggers (``runtime.*``, uvicorn's) log at ``LOG_LEVEL`` (default
``info``); the libraries under it (``databases``, ``asyncio``, ``httpx``...) only warn unless
``LOG_LEVEL=debug``. ``LOG_FORMAT=json`` writes one JSON object per line with the fields a
log pipeline indexes (``ts``, ``level``, ``logger``, ``message`` and, for a request, its
``request_id``, ``tenant``, ``workflow``, ``status``, ``code``, ``duration_ms``). Nothing the
runtime logs carries a token: an Authorization header is never logged, and a WebSocket's
``access_token`` leaves the query string before uvicorn can write it.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Mapping
from datetime import UTC, datetime

from runtime.config import ConfigError

LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING,
          "error": logging.ERROR}  # fmt: skip
OWN = ("runtime", "uvicorn", "uvicorn.error", "uvicorn.access")
LIBRARIES = ("databases", "asyncio", "httpx", "httpcore", "aiosqlite", "asyncpg", "redis",
             "aiosmtplib", "websockets", "multipart")  # fmt: skip
EXTRA_FIELDS = ("request_id", "tenant", "workflow", "status", "code", "duration_ms", "method",
                "path", "execution_id")  # fmt: skip
_MARK = "_runtime_handler"


class JsonFormatter(logging.Formatter):
    """One JSON object per record."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in EXTRA_FIELDS:
            value = record.__dict__.get(name)
            if value is not None:
                out[name] = value
        if record.exc_info:
            out["error"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


def settings(env: Mapping[str, str] | None = None) -> tuple[int, str]:
    """(level, format) from ``LOG_LEVEL`` and ``LOG_FORMAT``; ConfigError when unknown."""
    env = os.environ if env is None else env
    level = (env.get("LOG_LEVEL") or "info").lower()
    if level not in LEVELS:
        raise ConfigError(f"LOG_LEVEL must be one of {', '.join(LEVELS)}, got {level!r}")
    fmt = (env.get("LOG_FORMAT") or "text").lower()
    if fmt not in ("text", "json"):
        raise ConfigError(f"LOG_FORMAT must be text or json, got {fmt!r}")
    return LEVELS[level], fmt


def configure(env: Mapping[str, str] | None = None) -> None:
    """Install the handler on the root logger (once per process) and set the levels."""
    level, fmt = settings(env)
    root = logging.getLogger()
    handler = next((h for h in root.handlers if getattr(h, _MARK, False)), None)
    if handler is None:
        handler = logging.StreamHandler(sys.stderr)
        setattr(handler, _MARK, True)
        root.addHandler(handler)
    handler.setFormatter(
        JsonFormatter()
        if fmt == "json"
        else logging.Formatter("%(levelname)s %(name)s: %(message)s")
    )
    root.setLevel(level)
    for name in OWN:
        logging.getLogger(name).setLevel(level)
    for name in LIBRARIES:
        logging.getLogger(name).setLevel(level if level == logging.DEBUG else logging.WARNING)
