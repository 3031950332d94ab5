"""The interface generated handlers run against: one execution's database and events."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from runtime.context import Context

if TYPE_CHECKING:
    from runtime.effects import Effects

Row = Mapping[str, object]
Params = Mapping[str, object]


@dataclass
class Attempt:
    """A step run under ``errorHandler: log``: whether it failed (and was recorded)."""

    failed: bool = False


class Execution(Protocol):
    """One run of a workflow: its context, one database connection inside one transaction,
    and events that are published only after that transaction commits."""

    @property
    def context(self) -> Context: ...

    @property
    def postgres(self) -> bool:
        """Whether the database is PostgreSQL (a statement may have a spelling for it)."""
        ...

    @property
    def effects(self) -> Effects:
        """The app's services for effects (rate limiter, HTTP client, configuration)."""
        ...

    @property
    def execution_id(self) -> str: ...

    @property
    def origin(self) -> str | None:
        """``scheme://host:port`` the request came in on (relative HTTP calls go there)."""
        ...

    async def fetch_one(self, sql: str, params: Params) -> Row | None: ...

    async def fetch_all(self, sql: str, params: Params) -> list[Row]: ...

    async def create(
        self, sql: str, params: Params, existing_sql: str | None, existing_params: Params
    ) -> Row | None:
        """Insert; on a unique conflict the existing row (``existing_sql``); None when
        neither (the insert's own condition, such as a per-owner row limit, refused it)."""
        ...

    async def serialize(self, *key: str) -> None:
        """Wait until no other transaction holds ``key``, then hold it until this one ends,
        so a count and an insert (a row limit per owner) cannot interleave with another's."""
        ...

    async def detach(self) -> None:
        """End the transaction so far (it has written nothing) before an effect the workflow
        waits for; the next statement begins a new one."""
        ...

    def next_effect(self) -> int:
        """The number of the execution's next effect (outbox ids, Message-IDs)."""
        ...

    async def defer(self, kind: str, payload: object, attempts: int, seq: int) -> None:
        """Write an effect to the outbox in this transaction; delivered after the commit."""
        ...

    def emit(self, channel: str, event: str, data: object) -> None:
        """Publish an event on the tenant's ``channel`` once the transaction commits."""
        ...

    def release(self, table: str, key: object) -> None:
        """After commit, close the streams held by the deleted row ``key`` of ``table``."""
        ...

    def log(self, node_id: str, message: str, level: str = "info") -> None:
        """Record ``message`` in the history and the server log at ``level`` (debug, info,
        warn or error)."""
        ...

    def step(self, node_id: str) -> None:
        """The execution reaches ``node_id`` (per-node timings for the history)."""
        ...

    def step_failed(self, node_id: str, error: Exception) -> None:
        """``errorHandler: log``: record the failed step; the execution goes on."""
        ...

    def recover(self, node_id: str) -> AbstractAsyncContextManager[Attempt]:
        """Run a step under ``errorHandler: log``: an exception inside is recorded with
        :meth:`step_failed` and suppressed, and what the step wrote is undone, so the
        execution's transaction stays usable (a savepoint on PostgreSQL)."""
        ...
