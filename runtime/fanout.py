"""Writes for many connections at once: a broadcast's, a heartbeat's.

A broadcast to thousands of streams spends its time in the kernel: each write to a socket is
a system call that runs the TCP send and, on loopback, the receiver's side too (about 8 us
here). Python releases the GIL for it, so past ``PARALLEL_FROM`` connections the writes are
shared with helper threads, one a core.

It goes in two steps, both before the event loop runs anything else. First the calling
thread (the loop's) asks ``target`` of each item for its socket and payload, reading the
stream's own state where it is written. Then every thread writes: each takes the next block
of targets until none is left. The steps are not overlapped: a helper that returns from a
write needs the GIL back, and a thread running Python (the first step) gives it up only
every switch interval (5 ms), so a helper would write about one socket per interval. The
helpers touch nothing but the sockets they are handed, and nothing else runs on the loop
meanwhile, so no bytes interleave.

A socket is written only when its transport has nothing queued (``target`` says so), so the
payload follows what was sent before. What a socket does not take at once (its buffer is
full) or refuses (the client left) goes to the target's ``spill`` (its transport's write),
which queues it behind nothing and applies its own flow control and error handling as for
any write. The collector is paused meanwhile: with tens of thousands of streams alive, a
full collection triggered by the targets' allocations would hold the broadcast up for tens
of milliseconds.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from queue import Empty, SimpleQueue
from typing import TypeVar

PARALLEL_FROM = 256  # connections; below this the loop's thread writes them alone
THREADS = min(4, os.cpu_count() or 1)  # the loop's thread included
BLOCK = 64  # targets a thread takes at a time

Spill = Callable[[bytes], None]  # where what a socket did not take goes: its transport's write
Target = tuple[int, bytes, Spill]  # socket descriptor, payload, spill
T = TypeVar("T")
Short = list[tuple[Spill, bytes]]

_pool: ThreadPoolExecutor | None = None


def write_all(items: Iterable[T], target: Callable[[T], Target | None]) -> list[T]:
    """Write to each item's socket the payload ``target`` names for it (``target`` runs in
    the calling thread, before any write); returns the items it named none for (in order),
    for the caller to send its own way."""
    collecting = gc.isenabled()
    gc.disable()
    targets: list[Target] = []
    others: list[T] = []
    try:
        for item in items:
            found = target(item)
            if found is None:
                others.append(item)
            else:
                targets.append(found)
    finally:  # even if `target` failed: what it found is written
        try:
            short = _write(targets)
        finally:
            if collecting:
                gc.enable()
        for spill, rest in short:
            spill(rest)
    return others


def _write(targets: Sequence[Target]) -> Short:
    blocks: SimpleQueue[int] = SimpleQueue()  # where each block starts
    for start in range(0, len(targets), BLOCK):
        blocks.put(start)
    if THREADS < 2 or len(targets) < PARALLEL_FROM:
        return _write_blocks(targets, blocks)
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(THREADS - 1, thread_name_prefix="broadcast")
    helpers = [_pool.submit(_write_blocks, targets, blocks) for _ in range(THREADS - 1)]
    short = _write_blocks(targets, blocks)
    for helper in helpers:
        short += helper.result()
    return short


def _write_blocks(targets: Sequence[Target], blocks: SimpleQueue[int]) -> Short:
    """Write the blocks taken from ``blocks`` until none is left."""
    short: Short = []
    while True:
        try:
            start = blocks.get_nowait()
        except Empty:
            return short
        for fd, payload, spill in targets[start : start + BLOCK]:
            try:
                written = os.write(fd, payload)
            except OSError:  # the buffer is full (BlockingIOError), or the connection broke
                written = 0
            if written != len(payload):
                short.append((spill, payload[written:]))
