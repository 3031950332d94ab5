"""One execution's database work: a held connection, one transaction, events after commit."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from databases import Database
from databases.core import Connection

from runtime.context import Context
from runtime.execution import Params, Row

log = logging.getLogger("runtime.execution")


@dataclass
class Event:
    channel: str
    event: str
    data: object


@dataclass
class DatabaseExecution:
    """Implements :class:`runtime.execution.Execution` on a ``databases`` connection."""

    connection: Connection
    ctx: Context
    events: list[Event] = field(default_factory=list)
    logs: list[tuple[str, str]] = field(default_factory=list)

    @property
    def context(self) -> Context:
        return self.ctx

    async def fetch_one(self, sql: str, params: Params) -> Row | None:
        record = await self.connection.fetch_one(sql, dict(params))
        return None if record is None else dict(record._mapping)

    async def fetch_all(self, sql: str, params: Params) -> list[Row]:
        return [dict(r._mapping) for r in await self.connection.fetch_all(sql, dict(params))]

    async def create(
        self, sql: str, params: Params, existing_sql: str | None, existing_params: Params
    ) -> Row:
        row = await self.fetch_one(sql, params)
        if row is None and existing_sql is not None:
            row = await self.fetch_one(existing_sql, existing_params)
        if row is None:
            raise RuntimeError("insert returned no row and no existing row matched")
        return row

    def emit(self, channel: str, event: str, data: object) -> None:
        self.events.append(Event(channel, event, data))

    def log(self, node_id: str, message: str) -> None:
        self.logs.append((node_id, message))
        log.info("%s: %s", node_id, message)


async def migrate(database: Database, statements: Iterable[str]) -> None:
    """Apply idempotent DDL statements."""
    async with database.connection() as conn:
        for stmt in statements:
            await conn.execute(stmt)
