"""What workflows do outside the database: rate limits, outbound HTTP, mail, credentials,
media and files. Generated handlers call the functions of these modules with the execution;
the services they share (the HTTP client, the rate limiter's store, the outbox) live in one
:class:`Effects` per app, started and stopped with it.

Where each effect runs (the README's "Where effects run"):

- pure computation (hashes of a value, tokens, JWTs) runs in the handler, bcrypt in a worker
  thread so the event loop never waits on a hash;
- an effect whose result the workflow reads (an HTTP response, a hash, image metadata) runs
  outside any transaction: the compiler ends the execution's read-only transaction before
  it (``ex.detach()``) and the next statement opens a new one;
- an effect nobody waits for (a mail, a call whose answer is never read, deleting files) is
  written to the outbox in the execution's transaction and delivered after the commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from runtime.config import Config
from runtime.effects.ratelimit import RateLimiter, make_limiter

if TYPE_CHECKING:  # imported when a workflow first calls out: a server that never does
    import httpx  # keeps its memory


@dataclass
class Effects:
    config: Config
    limiter: RateLimiter = field(init=False)
    _http: httpx.AsyncClient | None = None

    def __post_init__(self) -> None:
        self.limiter = make_limiter(self.config.rate_limit_url)

    @property
    def http(self) -> httpx.AsyncClient:
        if self._http is None:
            import httpx

            # Redirects are not followed: a redirect could lead past the destination check.
            self._http = httpx.AsyncClient(follow_redirects=False, trust_env=False)
        return self._http

    async def start(self) -> None:
        await self.limiter.start()

    async def stop(self) -> None:
        await self.limiter.stop()
        if self._http is not None:
            await self._http.aclose()
            self._http = None
