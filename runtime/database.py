"""The database: a pool of held connections, one transaction per execution.

``databases`` opens a new connection (and, on SQLite, a thread) for every query made outside
a held connection, so the store opens ``pool_size`` connections at start-up and lends one to
each execution for its whole transaction.

SQLite allows one writer at a time, and a deferred transaction that reads and then writes
fails with "database is locked" when another writer got in between. Executions that write
(the compiler says which, ``WorkflowInfo.writes``) therefore queue on one lock in the process
and start with ``BEGIN IMMEDIATE``; the busy timeout covers other processes (a migration, the
``executions`` command). Reads run concurrently under WAL.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import re
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

from databases import Database
from databases.core import Connection

from runtime.config import Config
from runtime.context import Context
from runtime.effects import Effects
from runtime.execution import Attempt, Params, Row
from runtime.js import to_json_text as js_text

log = logging.getLogger("runtime.database")

HISTORY_TABLE = "workflow_execution"
HISTORY_COLUMNS = (
    "id",
    "workflow_id",
    "version_id",
    "tenant_id",
    "user_id",
    "trigger",
    "status",
    "error_code",
    "http_status",
    "started_at",
    "duration_ms",
    "nodes",
)
# The columns that are not text (history_ddl), as PostgreSQL names their types.
HISTORY_NOT_TEXT = {"http_status": "int", "duration_ms": "float8"}


HEALTH_TABLE = "runtime_health"  # one row per worker, written by every /healthz
HEALTH_UPSERT = (
    f"INSERT INTO {HEALTH_TABLE} (worker, checked_at) VALUES (:worker, :at) "
    "ON CONFLICT (worker) DO UPDATE SET checked_at = excluded.checked_at"
)
HEALTH_PRUNE = f"DELETE FROM {HEALTH_TABLE} WHERE checked_at < :before"


def history_ddl(dialect: str) -> tuple[str, ...]:
    """The runtime's own tables: the execution history, the health check's, the outbox."""
    real = "DOUBLE PRECISION" if dialect == "postgresql" else "REAL"
    return (
        f"CREATE TABLE IF NOT EXISTS {HEALTH_TABLE} (worker TEXT PRIMARY KEY, "
        "checked_at TEXT NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS {HISTORY_TABLE} (id TEXT PRIMARY KEY, "
        "workflow_id TEXT NOT NULL, version_id TEXT NOT NULL, tenant_id TEXT NOT NULL, "
        "user_id TEXT, trigger TEXT NOT NULL, status TEXT NOT NULL, error_code TEXT, "
        f"http_status INTEGER, started_at TEXT NOT NULL, duration_ms {real} NOT NULL, "
        "nodes TEXT NOT NULL)",
        f"CREATE INDEX IF NOT EXISTS idx_{HISTORY_TABLE}_tenant "
        f"ON {HISTORY_TABLE} (tenant_id, started_at)",
        *_outbox_ddl(dialect),
    )


def _outbox_ddl(dialect: str) -> tuple[str, ...]:
    from runtime import outbox

    return outbox.ddl(dialect)


class DatabaseGone(OSError):
    """The SQLite file was deleted or replaced under a running server: writes would go to a
    file nobody will open again."""


class Driver:
    """Statements straight to the driver on a held connection.

    The compiler emits finished SQL with named parameters, so the execution path skips what
    ``databases`` adds to every query (building a SQLAlchemy ``text()`` clause and compiling
    it): on SQLite that is most of a statement's cost (DEPENDENCIES.md: 307 us held versus
    97 us raw). ``databases`` still opens, pools and closes the connections.
    """

    def __init__(self, conn: Connection, dialect: str) -> None:
        self.raw: Any = conn.raw_connection
        self.sqlite = dialect == "sqlite"

    async def execute(self, sql: str) -> None:
        await self.raw.execute(sql)

    async def fetch_all(self, sql: str, params: Params) -> list[Row]:
        if self.sqlite:
            # sqlite3 binds :name parameters itself; one hop to the connection's thread.
            return [dict(r) for r in await self.raw.execute_fetchall(sql, params)]
        text, names = positional(sql)
        return [dict(r) for r in await self.raw.fetch(text, *(params[n] for n in names))]


_PARAM = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


@functools.cache
def positional(sql: str) -> tuple[str, tuple[str, ...]]:
    """``:name`` parameters as PostgreSQL's ``$1``, and the names in order (cached)."""
    names: list[str] = []

    def number(m: re.Match[str]) -> str:
        if m.group(1) not in names:
            names.append(m.group(1))
        return f"${names.index(m.group(1)) + 1}"

    return _PARAM.sub(number, sql), tuple(names)


def _connection_lost(exc: BaseException) -> bool:
    if isinstance(exc, OSError | ConnectionError):
        return True
    from asyncpg import InterfaceError  # only reached on PostgreSQL

    return isinstance(exc, InterfaceError)


def is_database_failure(exc: BaseException) -> bool:
    """An error of the database or its driver, as opposed to a bug or a bad request."""
    if isinstance(exc, sqlite3.Error | OSError | ConnectionError):
        return True
    module = type(exc).__module__
    return module.startswith(("asyncpg", "aiosqlite"))


@dataclass
class Store:
    config: Config
    database: Database = field(init=False)
    _pool: asyncio.Queue[Connection] = field(init=False)
    _write_lock: asyncio.Lock = field(init=False)
    _missing: int = 0  # pool slots whose connection could not be reopened yet
    _file: tuple[int, int] | None = None  # SQLite: the (device, inode) opened at start
    # PostgreSQL: each pooled connection's (app.tenant_id, app.tenant_scan,
    # statement_timeout in ms), by id().
    _bound: dict[int, tuple[str, str, int]] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        url = self.config.database_url
        if self.config.is_sqlite:
            Path(self.config.sqlite_path).parent.mkdir(parents=True, exist_ok=True)
        self.database = Database(url)
        self._pool = asyncio.Queue()
        self._write_lock = asyncio.Lock()

    @property
    def dialect(self) -> str:
        return "sqlite" if self.config.is_sqlite else "postgresql"

    async def start(self) -> None:
        await self.database.connect()
        if self.config.is_sqlite:
            async with self.database.connection() as conn:
                await conn.execute("PRAGMA journal_mode=WAL")
            self._file = _identity(self.config.sqlite_path)
        for _ in range(self.config.pool_size):
            self._pool.put_nowait(await self._open())

    async def stop(self) -> None:
        while not self._pool.empty():
            await self._close(self._pool.get_nowait())
        await self.database.disconnect()

    async def _open(self) -> Connection:
        conn = Connection(self.database, self.database._backend)
        await conn.__aenter__()
        if self.config.is_sqlite:
            await conn.execute(f"PRAGMA busy_timeout = {int(self.config.busy_timeout_ms)}")
            await conn.execute("PRAGMA synchronous = NORMAL")
            await conn.execute("PRAGMA foreign_keys = ON")
            # Rows by column name for Driver.fetch_all; `databases` reads them by position,
            # which still works.
            conn.raw_connection.row_factory = sqlite3.Row
        return conn

    async def _close(self, conn: Connection) -> None:
        self._bound.pop(id(conn), None)
        try:
            await conn.__aexit__(None, None, None)
        except Exception:  # a broken connection may fail to close; it is gone either way
            log.warning("closing a broken database connection failed", exc_info=True)

    def transaction(
        self,
        writes: bool,
        tenant: str | None = None,
        scan: bool = False,
        timeout_ms: int = 0,
    ) -> Transaction:
        """A held connection inside one transaction (``async with``): committed when the
        block ends, rolled back when it raises (a rolled-back execution publishes nothing).

        On PostgreSQL the connection is bound to ``tenant`` for row-level security
        (``app.tenant_id``); ``scan`` opens a read-only one that may list tenants.
        """
        if writes and self.config.is_sqlite:
            return Transaction(self, "BEGIN IMMEDIATE", None, False, self._write_lock, 0)
        if scan and not self.config.is_sqlite:
            return Transaction(self, "BEGIN READ ONLY", None, True, None, 0)
        return Transaction(self, "BEGIN", tenant, False, None, timeout_ms)

    async def bind(
        self, conn: Connection, driver: Driver, tenant: str, scan: bool, timeout_ms: int
    ) -> None:
        """Bind the connection to a tenant for row-level security (``app.tenant_id``, and
        ``app.tenant_scan`` for the scheduler's listing) and to a statement timeout (an
        execution's workflow's; 0, none, for the runtime's own work), unless it already is.

        The settings are the session's, so a connection serving one tenant after another
        pays no round trip for them; the store remembers each connection's, forgets them
        when a transaction rolls back (which undoes a setting made inside it) and drops them
        with the connection. Every use of a connection passes here, so none runs with
        another's tenant.
        """
        want = (tenant, "on" if scan else "off", timeout_ms)
        if self._bound.get(id(conn)) == want:
            return
        self._bound.pop(id(conn), None)
        await driver.fetch_all(
            "SELECT set_config('app.tenant_id', :tenant, false), "
            "set_config('app.tenant_scan', :scan, false), "
            "set_config('statement_timeout', :timeout, false)",
            {"tenant": tenant, "scan": want[1], "timeout": str(timeout_ms)},
        )
        self._bound[id(conn)] = want

    def pool_usage(self) -> tuple[int, int]:
        """(connections the pool holds, of which idle)."""
        size = self.config.pool_size - self._missing
        return size, min(size, self._pool.qsize())

    async def checkout(
        self, begin: str | None, tenant: str, scan: bool, timeout_ms: int
    ) -> tuple[Connection, Driver]:
        """A pooled connection, in a transaction when ``begin`` says how to start one, bound
        as :meth:`bind` says (PostgreSQL); on failure a fresh one takes its place."""
        conn = await self._acquire()
        driver = Driver(conn, self.dialect)
        try:
            if begin is not None:
                await driver.execute(begin)
            if not driver.sqlite:
                await self.bind(conn, driver, tenant, scan, timeout_ms)
        except BaseException:
            await self._replace(conn)
            raise
        return conn, driver

    def statement(self, tenant: str, timeout_ms: int) -> OneStatement:
        """A PostgreSQL connection for an execution that is one statement
        (``WorkflowInfo.one_statement``): no BEGIN and no COMMIT, the statement its own
        transaction, bounded by ``statement_timeout``. (SQLite gains nothing by it: the
        engine gives those executions an ordinary transaction there.)"""
        return OneStatement(self, tenant, timeout_ms)

    async def _replace(self, conn: Connection) -> None:
        """Put a fresh connection in the pool in place of one whose state is unknown."""
        await self._close(conn)
        try:
            fresh = await self._open()
        except Exception as exc:
            log.warning("reopening a database connection failed; retrying on demand: %s", exc)
            self._missing += 1
            return
        self._pool.put_nowait(fresh)

    async def _acquire(self) -> Connection:
        if self._pool.empty() and self._missing:
            self._missing -= 1
            try:
                return await self._open()
            except BaseException:
                self._missing += 1
                raise
        return await self._pool.get()

    def writer(self, tenant: str | None = None) -> Transaction:
        """A write transaction outside any workflow (history, demo data, migrations)."""
        return self.transaction(writes=True, tenant=tenant)

    async def check_writable(self, worker: str) -> None:
        """Raise unless a write commits: the file is still the one opened (SQLite), the disk
        has room, the database is not read-only. One row per worker, old ones pruned."""
        if self.config.is_sqlite:
            path = self.config.sqlite_path
            try:
                now = _identity(path)
            except FileNotFoundError:
                raise DatabaseGone(f"the database file {path} was deleted") from None
            if now != self._file:
                raise DatabaseGone(f"the database file {path} was replaced")
        at = datetime.now(UTC)
        async with self.writer() as conn:
            driver = Driver(conn, self.dialect)
            await driver.fetch_all(HEALTH_UPSERT, {"worker": worker, "at": at.isoformat()})
            before = (at - timedelta(days=1)).isoformat()
            await driver.fetch_all(HEALTH_PRUNE, {"before": before})


class Transaction:
    """One transaction on a pooled connection, as ``async with store.transaction(...)``:
    BEGIN (and the tenant binding) on entry; COMMIT when the block ends, ROLLBACK when it
    raises; the connection goes back to the pool, or a fresh one takes its place when its
    state is unknown (a failed BEGIN, COMMIT or ROLLBACK, a cancellation mid-statement)."""

    __slots__ = ("begin", "conn", "driver", "lock", "scan", "store", "tenant", "timeout_ms")

    def __init__(
        self,
        store: Store,
        begin: str,
        tenant: str | None,
        scan: bool,
        lock: asyncio.Lock | None,
        timeout_ms: int,
    ) -> None:
        self.store = store
        self.begin = begin
        self.tenant = tenant
        self.scan = scan
        self.lock = lock  # SQLite: the process's one writer at a time
        self.timeout_ms = timeout_ms

    async def __aenter__(self) -> Connection:
        if self.lock is not None:
            await self.lock.acquire()
        try:
            self.conn, self.driver = await self.store.checkout(
                self.begin, self.tenant or "", self.scan, self.timeout_ms
            )
        except BaseException:
            if self.lock is not None:
                self.lock.release()
            raise
        return self.conn

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        store, conn = self.store, self.conn
        healthy = False
        try:
            if kind is None:
                await self.driver.execute("COMMIT")
            else:
                store._bound.pop(id(conn), None)  # a rollback undoes a setting made in it
                await asyncio.shield(self.driver.execute("ROLLBACK"))
            healthy = True
        finally:
            try:
                if healthy:
                    store._pool.put_nowait(conn)
                else:
                    await store._replace(conn)
            finally:
                if self.lock is not None:
                    self.lock.release()


class OneStatement:
    """A pooled PostgreSQL connection lent for one statement outside any transaction
    (``Store.statement``)."""

    __slots__ = ("conn", "store", "tenant", "timeout_ms")

    def __init__(self, store: Store, tenant: str, timeout_ms: int) -> None:
        self.store = store
        self.tenant = tenant
        self.timeout_ms = timeout_ms

    async def __aenter__(self) -> Connection:
        self.conn, _ = await self.store.checkout(None, self.tenant, False, self.timeout_ms)
        return self.conn

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # A statement that failed in the database, or a workflow error after it, leaves the
        # connection idle; a cancellation or a broken connection leaves it in a state
        # nobody knows.
        if error is None or (isinstance(error, Exception) and not _connection_lost(error)):
            self.store._pool.put_nowait(self.conn)
        else:
            await self.store._replace(self.conn)


def _identity(path: str) -> tuple[int, int]:
    st = os.stat(path)
    return st.st_dev, st.st_ino


@dataclass(frozen=True)
class Emitted:
    """An event an execution emitted, published once its transaction commits."""

    channel: str
    event: str
    data: object


_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warn": logging.WARNING,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


@dataclass(slots=True)
class DatabaseExecution:
    """Implements :class:`runtime.execution.Execution` on a held ``databases`` connection.

    Given a ``connection``, every statement runs on it. Given an ``opener`` instead, the
    transaction begins at the first statement and :meth:`detach` ends it before an effect the
    workflow waits for (the next statement begins another); :meth:`end` commits or rolls back
    the one open at the end. Events, released rows and logs are buffered; the engine publishes
    them after commit.
    """

    connection: Connection | None
    ctx: Context
    dialect: str = "sqlite"
    opener: Callable[[], AbstractAsyncContextManager[Connection]] | None = None
    effects_: Effects | None = None
    execution_id: str = ""
    workflow_id: str = ""
    origin: str | None = None  # scheme://host:port the request came in on
    events: list[Emitted] = field(default_factory=list)
    releases: list[tuple[str, str]] = field(default_factory=list)
    logs: list[tuple[str, str]] = field(default_factory=list)
    steps: list[tuple[str, int]] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)
    deferred: int = 0  # outbox rows written

    driver: Driver = field(init=False)
    _held: AbstractAsyncContextManager[Connection] | None = field(default=None, init=False)
    _effects_seq: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if self.connection is not None:
            self.driver = Driver(self.connection, self.dialect)

    async def _open(self) -> Driver:
        if self.connection is None:
            if self.opener is None:
                raise RuntimeError("this execution has no database connection")
            held = self.opener()
            self.connection = await held.__aenter__()
            self._held = held
            self.driver = Driver(self.connection, self.dialect)
        return self.driver

    async def detach(self) -> None:
        if self._held is not None:
            held, self._held = self._held, None
            self.connection = None
            await held.__aexit__(None, None, None)

    async def end(self, error: BaseException | None) -> None:
        """Commit the open transaction, or roll it back when ``error`` ends the execution."""
        if self._held is None:
            return
        held, self._held = self._held, None
        self.connection = None
        if error is None:
            await held.__aexit__(None, None, None)
        else:
            await held.__aexit__(type(error), error, error.__traceback__)

    @property
    def effects(self) -> Effects:
        if self.effects_ is None:
            raise RuntimeError("this execution has no effects configured")
        return self.effects_

    def next_effect(self) -> int:
        self._effects_seq += 1
        return self._effects_seq

    async def defer(self, kind: str, payload: object, attempts: int, seq: int) -> None:
        from runtime import outbox

        driver = await self._open()
        await driver.fetch_all(
            outbox.INSERT,
            {
                "id": f"{self.execution_id or uuid.uuid4()}:{seq}",
                "kind": kind,
                "tenant": self.ctx["tenantId"],
                "workflow": self.workflow_id,
                "payload": js_text(payload),
                "max": attempts,
                "now": time.time(),
            },
        )
        self.deferred += 1

    @property
    def context(self) -> Context:
        return self.ctx

    @property
    def postgres(self) -> bool:
        return self.dialect != "sqlite"

    async def fetch_one(self, sql: str, params: Params) -> Row | None:
        rows = await (await self._open()).fetch_all(sql, params)
        return rows[0] if rows else None

    async def fetch_all(self, sql: str, params: Params) -> list[Row]:
        return await (await self._open()).fetch_all(sql, params)

    async def create(
        self, sql: str, params: Params, existing_sql: str | None, existing_params: Params
    ) -> Row | None:
        row = await self.fetch_one(sql, params)
        if row is None and existing_sql is not None:
            row = await self.fetch_one(existing_sql, existing_params)
        return row

    async def serialize(self, *key: str) -> None:
        driver = await self._open()
        if driver.sqlite:
            return  # one writer at a time already (Store.transaction)
        await driver.fetch_all(
            "SELECT pg_advisory_xact_lock(hashtextextended(:key, 0)) AS locked",
            {"key": "\x1f".join(key)},
        )

    def emit(self, channel: str, event: str, data: object) -> None:
        self.events.append(Emitted(channel, event, data))

    def release(self, table: str, key: object) -> None:
        self.releases.append((table, str(key)))

    def log(self, node_id: str, message: str, level: str = "info") -> None:
        self.logs.append((node_id, message))
        log.log(_LEVELS.get(level, logging.INFO), "%s: %s", node_id, message)

    def step(self, node_id: str) -> None:
        self.steps.append((node_id, time.perf_counter_ns()))

    def step_failed(self, node_id: str, error: Exception) -> None:
        message = f"{type(error).__name__}: {error}"
        self.failures.append((node_id, message))
        log.warning("step %s failed and was skipped (errorHandler: log): %s", node_id, message)

    @asynccontextmanager
    async def recover(self, node_id: str) -> AsyncIterator[Attempt]:
        # On PostgreSQL a failed statement aborts the whole transaction; a savepoint keeps
        # the rest of the execution going. SQLite keeps the transaction usable by itself.
        driver = await self._open()
        savepoint = None if driver.sqlite else f"step_{len(self.steps)}"
        attempt = Attempt()
        if savepoint:
            await driver.execute(f"SAVEPOINT {savepoint}")
        try:
            yield attempt
        except Exception as exc:
            if savepoint:
                await driver.execute(f"ROLLBACK TO SAVEPOINT {savepoint}")
            attempt.failed = True
            self.step_failed(node_id, exc)
        else:
            if savepoint:
                await driver.execute(f"RELEASE SAVEPOINT {savepoint}")


async def migrate(store: Store, statements: Iterable[str]) -> int:
    """Apply idempotent DDL statements in one transaction; the number applied."""
    n = 0
    async with store.writer() as conn:
        for stmt in statements:
            await conn.execute(stmt)
            n += 1
    return n
