"""``metabuilder.rateLimit``: a fixed window per key, as upstream's middleware counts
(``{count, resetAt = now + window}``, refused once ``count > limit``).

Keys are always the tenant's, the workflow's and the node's, then the key the workflow
computes (hashed: an e-mail address is not stored in Redis). In-process counters serve one
worker; with ``RATE_LIMIT_URL`` (or ``EVENTS_URL``) on Redis every worker counts in one place.
"""

from __future__ import annotations

import hashlib
import time
from typing import TYPE_CHECKING, Protocol

from runtime import js
from runtime.errors import RateLimited, ServiceUnavailable

if TYPE_CHECKING:
    from runtime.execution import Execution

MAX_MEMORY_KEYS = 100_000  # beyond this, expired windows are dropped, then the oldest


class RateLimiter(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def hit(self, key: str, window_ms: int) -> tuple[int, int]:
        """Count one hit on ``key``: the count in the current window and the milliseconds
        until that window ends."""
        ...


class MemoryLimiter:
    def __init__(self) -> None:
        self.windows: dict[str, tuple[int, float]] = {}

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        self.windows.clear()

    async def hit(self, key: str, window_ms: int) -> tuple[int, int]:
        now = time.monotonic() * 1000
        count, reset = self.windows.get(key, (0, 0.0))
        if reset <= now:
            count, reset = 0, now + window_ms
            self.windows.pop(key, None)  # re-inserted last: the dict stays in reset order
        self.windows[key] = (count + 1, reset)
        if len(self.windows) > MAX_MEMORY_KEYS:
            self._prune(now)
        return count + 1, max(0, int(reset - now))

    def _prune(self, now: float) -> None:
        for k in [k for k, (_, reset) in self.windows.items() if reset <= now]:
            del self.windows[k]
        while len(self.windows) > MAX_MEMORY_KEYS:
            del self.windows[next(iter(self.windows))]


# INCR and PEXPIRE in one step, so a crash between them cannot leave a key without expiry.
_HIT = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {n, ttl}
"""


class RedisLimiter:
    def __init__(self, url: str) -> None:
        import redis.asyncio as aioredis

        self.client = aioredis.Redis.from_url(url)
        self.script = self.client.register_script(_HIT)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        await self.client.aclose()

    async def hit(self, key: str, window_ms: int) -> tuple[int, int]:
        try:
            n, ttl = await self.script(keys=[key], args=[window_ms])
        except OSError as exc:
            raise ServiceUnavailable(
                f"The rate limit store is unavailable ({type(exc).__name__})", "RATE_LIMIT_DOWN"
            ) from None
        except Exception as exc:  # redis.exceptions.ConnectionError is not an OSError
            if type(exc).__module__.startswith("redis"):
                raise ServiceUnavailable(
                    f"The rate limit store is unavailable ({type(exc).__name__})",
                    "RATE_LIMIT_DOWN",
                ) from None
            raise
        return int(n), int(ttl)


def make_limiter(url: str) -> RateLimiter:
    if url.startswith(("redis://", "rediss://")):
        return RedisLimiter(url)
    return MemoryLimiter()


DEFAULT_MESSAGE = "Too many requests"


async def rate_limit(
    ex: Execution, name: str, key: object, limit: int, window_ms: int, message: str | None
) -> None:
    """Count this execution against the window of ``name`` (workflow and node) and ``key``;
    RateLimited (429, ``Retry-After``) once the window holds more than ``limit`` hits."""
    digest = hashlib.sha256(js.to_string(key).encode()).hexdigest()[:32]
    full = f"ratelimit:{ex.context['tenantId']}\x1f{name}\x1f{digest}"
    count, remaining_ms = await ex.effects.limiter.hit(full, window_ms)
    if count > limit:
        retry = max(1, -(-remaining_ms // 1000))
        raise RateLimited(message or DEFAULT_MESSAGE, retry)
