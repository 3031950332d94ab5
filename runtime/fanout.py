"""One payload written to many connections at once: a broadcast's writes.

A broadcast to thousands of streams spends its time in the kernel: each write to a socket is
a system call that runs the TCP send and, on loopback, the receiver's side too (about 7 us
here). Python releases the GIL for it, so past ``PARALLEL_FROM`` connections the writes are
split among a few threads and run on every core. The event loop's thread takes one share
and waits for the others, as it would have waited to write them all itself: nothing else
writes to these sockets meanwhile, so no bytes interleave.

The caller hands only connections whose transport has nothing queued (a precondition: the
payload then goes out right after what was sent before). What a socket does not take at once
(its buffer is full) or refuses (the client left) is handed to its transport, which queues
the rest behind nothing and applies its own flow control and error handling as for any
write.
"""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor

PARALLEL_FROM = 256  # connections; below this the loop's thread writes them alone
THREADS = min(4, os.cpu_count() or 1)  # the loop's thread included

Target = tuple[int, asyncio.WriteTransport, bytes]  # socket descriptor, its transport, payload

_pool: ThreadPoolExecutor | None = None


def write_all(targets: list[Target]) -> int:
    """Write each payload to its socket; returns how many went out whole at once."""
    shares = min(THREADS, len(targets) // (PARALLEL_FROM // 2)) if THREADS > 1 else 1
    if shares < 2:
        short = _write(targets, 0, 1)
    else:
        global _pool
        if _pool is None:
            _pool = ThreadPoolExecutor(THREADS - 1, thread_name_prefix="broadcast")
        others = [_pool.submit(_write, targets, k, shares) for k in range(1, shares)]
        short = _write(targets, 0, shares)
        for other in others:
            short += other.result()
    for i, written in short:
        _, transport, payload = targets[i]
        transport.write(payload[written:])
    return len(targets) - len(short)


def _write(targets: list[Target], first: int, step: int) -> list[tuple[int, int]]:
    """Every ``step``-th target from ``first`` (shares interleave, so each thread gets as
    many); returns (index, bytes written) of those not written whole."""
    short = []
    for i in range(first, len(targets), step):
        fd, _, payload = targets[i]
        try:
            written = os.write(fd, payload)
        except OSError:  # the buffer is full (BlockingIOError), or the connection broke
            written = 0
        if written != len(payload):
            short.append((i, written))
    return short
