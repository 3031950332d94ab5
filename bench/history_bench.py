"""The execution history's writes on PostgreSQL with random ids (UUIDv4, as executions had)
against time-ordered ones (UUIDv7, ``runtime.history.execution_id``): the same rows, the
runtime's own table and indexes, written by binary ``COPY`` in the history's batches. The
cost of a row is measured once the table holds ``--rows`` of them, as PostgreSQL's CPU
time (its backend's) and the wall time per row: a random id lands anywhere in the primary
key's index, a time-ordered one at its right edge.

Run: ``make bench`` or ``.venv/bin/python bench/history_bench.py [--rows 400000]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from runtime.database import HISTORY_COLUMNS, HISTORY_TABLE, history_ddl  # noqa: E402
from runtime.history import BATCH, Record, execution_id  # noqa: E402
from tests.services import Postgres  # noqa: E402

MEASURED = 100_000  # the last rows written, whose cost is reported


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rows(new_id: Callable[[int], str], count: int) -> list[tuple[object, ...]]:
    out = []
    for _ in range(count):
        at = time.time_ns() // 1_000_000  # epoch milliseconds
        t0 = time.perf_counter_ns()
        rec = Record(
            new_id(at), "scene_transition", "v1", "acme", "u1", "http", "success", None, 200,
            at, t0, t0 + 400_000, [("validate", t0), ("update", t0 + 100_000)], [],
        )  # fmt: skip
        out.append(rec.values(rec.timings()))
    return out


async def measure(
    conn: asyncpg.Connection, name: str, new_id: Callable[[int], str], total: int
) -> str:
    await conn.execute(f"DROP TABLE IF EXISTS {HISTORY_TABLE}")
    for statement in history_ddl("postgresql"):
        if f" {HISTORY_TABLE} " in statement:  # the history table and its index
            await conn.execute(statement)
    pid = await conn.fetchval("SELECT pg_backend_pid()")
    cpu = wall = 0.0
    for written in range(0, total, BATCH):
        batch = rows(new_id, BATCH)
        c0, t0 = cpu_s(pid), time.perf_counter()
        await conn.copy_records_to_table(
            HISTORY_TABLE, records=batch, columns=list(HISTORY_COLUMNS)
        )
        if written >= total - MEASURED:
            cpu += cpu_s(pid) - c0
            wall += time.perf_counter() - t0
    return (
        f"  {name:36} {cpu / MEASURED * 1e6:6.1f} us of PostgreSQL CPU a row, "
        f"{wall / MEASURED * 1e6:6.1f} us wall"
    )


async def run(total: int) -> None:
    pg = Postgres.start()
    try:
        db = pg.create_database()
        conn = await asyncpg.connect(pg.url(db))
        try:
            print(
                f"execution history on PostgreSQL: COPY in batches of {BATCH}, the last "
                f"{MEASURED:,} of {total:,} rows"
            )
            for _ in range(2):  # alternated: the machine's speed drifts
                print(
                    await measure(conn, "random ids (UUIDv4)", lambda at: str(uuid.uuid4()), total)
                )
                print(
                    await measure(conn, "time-ordered ids (UUIDv7, shipped)", execution_id, total)
                )
        finally:
            await conn.close()
    finally:
        pg.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=400_000)
    args = parser.parse_args()
    asyncio.run(run(max(args.rows, MEASURED)))
