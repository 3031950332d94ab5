"""Writes for many connections at once: a broadcast's, a heartbeat's.

A broadcast to thousands of streams spends its time in the kernel: each write to a socket is
a system call that runs the TCP send and, on loopback, the receiver's side too (about 7 us
here). Python releases the GIL for it, so past ``PARALLEL_FROM`` connections the streams are
split among a few threads, each of which finds its streams' sockets and writes them: one
thread's checks run while another's writes are in the kernel, on every core. The event
loop's thread takes one share and waits for the others, as it would have waited to write
them all itself: nothing else runs on the loop meanwhile, so no bytes interleave and the
threads only read the state of the streams and their transports.

A socket is written only when its transport has nothing queued (the caller's ``target``
says so), so the payload follows what was sent before. What a socket does not take at once
(its buffer is full) or refuses (the client left) is handed to its transport, which queues it
behind nothing and applies its own flow control and error handling as for any write.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

PARALLEL_FROM = 256  # connections; below this the loop's thread writes them alone
THREADS = min(4, os.cpu_count() or 1)  # the loop's thread included

Target = tuple[int, asyncio.WriteTransport, bytes]  # socket descriptor, its transport, payload
T = TypeVar("T")
Short = list[tuple[asyncio.WriteTransport, bytes]]  # what sockets did not take

_pool: ThreadPoolExecutor | None = None


def write_all(items: Sequence[T], target: Callable[[T], Target | None]) -> list[T]:
    """Write to each item's socket the payload ``target`` names for it (``target`` runs in
    any of the threads and must only read); returns the items it named none for (in no
    particular order), for the caller to send its own way."""
    shares = min(THREADS, len(items) // (PARALLEL_FROM // 2)) if THREADS > 1 else 1
    if shares < 2:
        short, others = _write(items, target, 0, 1)
    else:
        global _pool
        if _pool is None:
            _pool = ThreadPoolExecutor(THREADS - 1, thread_name_prefix="broadcast")
        pending = [_pool.submit(_write, items, target, k, shares) for k in range(1, shares)]
        short, others = _write(items, target, 0, shares)
        for done in pending:
            more_short, more_others = done.result()
            short += more_short
            others += more_others
    for transport, rest in short:
        transport.write(rest)
    return others


def _write(
    items: Sequence[T], target: Callable[[T], Target | None], first: int, step: int
) -> tuple[Short, list[T]]:
    """Every ``step``-th item from ``first`` (shares interleave, so each thread gets as
    many): what its socket did not take, and the items without a target."""
    short: Short = []
    others: list[T] = []
    for i in range(first, len(items), step):
        found = target(items[i])
        if found is None:
            others.append(items[i])
            continue
        fd, transport, payload = found
        try:
            written = os.write(fd, payload)
        except OSError:  # the buffer is full (BlockingIOError), or the connection broke
            written = 0
        if written != len(payload):
            short.append((transport, payload[written:]))
    return short, others
