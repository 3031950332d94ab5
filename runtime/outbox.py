"""The outbox: effects nobody waits for (a mail, an HTTP call whose answer is never read,
deleting files), written in the execution's own transaction and delivered after it commits.

A crash between the commit and the delivery loses nothing: every worker looks for due rows at
start and every ``OUTBOX_POLL_MS``. A row is claimed before it is delivered (a conditional
UPDATE that one worker wins), marked ``sent`` right after, and retried with backoff up to its
attempts when delivery fails; so a message goes out once per execution. The one window for a
second delivery is a worker dying in the middle of a delivery: after the claim's lease (five
minutes) another worker tries again, with the same Message-ID. Payloads are cleared once
delivered (they may hold links with tokens).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable

from runtime.database import Driver, Store
from runtime.effects import Effects

log = logging.getLogger("runtime.outbox")

TABLE = "workflow_outbox"
LEASE_S = 300.0
BATCH = 50


def ddl(dialect: str) -> tuple[str, ...]:
    real = "DOUBLE PRECISION" if dialect == "postgresql" else "REAL"
    return (
        f"CREATE TABLE IF NOT EXISTS {TABLE} (id TEXT PRIMARY KEY, kind TEXT NOT NULL, "
        "tenant_id TEXT NOT NULL, workflow_id TEXT NOT NULL, payload TEXT NOT NULL, status TEXT NOT NULL, "
        f"attempts INTEGER NOT NULL, max_attempts INTEGER NOT NULL, due_at {real} NOT NULL, "
        f"created_at {real} NOT NULL, done_at {real}, last_error TEXT)",
        f"CREATE INDEX IF NOT EXISTS idx_{TABLE}_due ON {TABLE} (status, due_at)",
    )


INSERT = (
    f"INSERT INTO {TABLE} (id, kind, tenant_id, workflow_id, payload, status, attempts, "
    "max_attempts, due_at, created_at) "
    "VALUES (:id, :kind, :tenant, :workflow, :payload, 'pending', 0, :max, :now, :now)"
)
DUE = (
    f"SELECT id FROM {TABLE} WHERE (status = 'pending' AND due_at <= :now) "
    f"OR (status = 'sending' AND due_at <= :now) ORDER BY due_at LIMIT {BATCH}"
)
CLAIM = (
    f"UPDATE {TABLE} SET status = 'sending', attempts = attempts + 1, due_at = :lease "
    "WHERE id = :id AND status IN ('pending', 'sending') AND due_at <= :now "
    "RETURNING kind, payload, attempts, max_attempts"
)
SENT = (
    f"UPDATE {TABLE} SET status = 'sent', payload = '{{}}', done_at = :now, last_error = NULL "
    "WHERE id = :id"
)
RETRY = f"UPDATE {TABLE} SET status = 'pending', due_at = :due, last_error = :error WHERE id = :id"
FAILED = (
    f"UPDATE {TABLE} SET status = 'failed', payload = '{{}}', done_at = :now, "
    "last_error = :error WHERE id = :id"
)

PRUNE = f"DELETE FROM {TABLE} WHERE status IN ('sent', 'failed') AND done_at < :before"
KEEP_S = 7 * 24 * 3600.0  # delivered and failed rows are kept a week (for operators), then go
PRUNE_EVERY_S = 3600.0

Handler = Callable[[Effects, dict[str, object]], Awaitable[None]]


def _handlers() -> dict[str, Handler]:
    from runtime.effects import mail, outbound

    return {
        "email": mail.deliver,
        "http": outbound.deliver_http,
        "delete": outbound.deliver_delete,
    }


class Outbox:
    def __init__(self, store: Store, effects: Effects) -> None:
        self.store = store
        self.effects = effects
        self.config = effects.config
        self._handlers: dict[str, Handler] | None = None  # imported at the first delivery
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.delivered = 0
        self.failed = 0
        self._pruned_at = 0.0

    @property
    def handlers(self) -> dict[str, Handler]:
        """How each kind of row is delivered (by the kind's name)."""
        if self._handlers is None:
            self._handlers = _handlers()
        return self._handlers

    @handlers.setter
    def handlers(self, value: dict[str, Handler]) -> None:
        self._handlers = value

    def kick(self) -> None:
        """Deliver what the execution that just committed queued."""
        self._wake.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self.deliver_due()
                if time.monotonic() - self._pruned_at > PRUNE_EVERY_S:
                    await self.prune()
            except Exception as exc:  # the database may be down: try again at the next poll
                log.warning("outbox delivery round failed: %s: %s", type(exc).__name__, exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.config.outbox_poll_s)
            self._wake.clear()

    async def prune(self, now: float | None = None) -> None:
        """Forget delivered and failed rows older than a week."""
        self._pruned_at = time.monotonic()
        before = (now if now is not None else time.time()) - KEEP_S
        async with self.store.writer() as conn:
            await Driver(conn, self.store.dialect).fetch_all(PRUNE, {"before": before})

    async def deliver_due(self) -> int:
        """Claim and deliver every due row; the number delivered."""
        now = time.time()
        async with self.store.transaction(writes=False) as conn:
            ids = [
                str(r["id"])
                for r in await Driver(conn, self.store.dialect).fetch_all(DUE, {"now": now})
            ]
        done = 0
        for row_id in ids:
            done += await self._deliver_one(row_id)
        return done

    async def _deliver_one(self, row_id: str) -> int:
        now = time.time()
        async with self.store.writer() as conn:
            rows = await Driver(conn, self.store.dialect).fetch_all(
                CLAIM, {"id": row_id, "now": now, "lease": now + LEASE_S}
            )
        if not rows:
            return 0  # another worker has it
        row = rows[0]
        kind, payload = str(row["kind"]), json.loads(str(row["payload"]))
        attempts, most = int(str(row["attempts"])), int(str(row["max_attempts"]))
        handler = self.handlers.get(kind)
        try:
            if handler is None:
                raise RuntimeError(f"no handler for outbox kind {kind!r}")
            await handler(self.effects, payload)
        except asyncio.CancelledError:
            # Shutting down mid-delivery: hand the row back now rather than after the lease
            # (it may go out twice if the delivery had in fact completed).
            async with self.store.writer() as conn:
                await Driver(conn, self.store.dialect).fetch_all(
                    RETRY, {"id": row_id, "due": time.time(), "error": "interrupted"}
                )
            raise
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
            async with self.store.writer() as conn:
                driver = Driver(conn, self.store.dialect)
                if attempts >= most:
                    self.failed += 1
                    log.error("outbox %s (%s) failed for good: %s", row_id, kind, error)
                    await driver.fetch_all(
                        FAILED, {"id": row_id, "now": time.time(), "error": error}
                    )
                else:
                    due = time.time() + min(300.0, 2.0 ** (attempts - 1))
                    log.warning("outbox %s (%s) failed, retrying: %s", row_id, kind, error)
                    await driver.fetch_all(RETRY, {"id": row_id, "due": due, "error": error})
            return 0
        async with self.store.writer() as conn:
            await Driver(conn, self.store.dialect).fetch_all(
                SENT, {"id": row_id, "now": time.time()}
            )
        self.delivered += 1
        return 1
