"""Writes for many connections at once: a broadcast's, a heartbeat's.

A broadcast to thousands of streams spends its time in the kernel: each write to a socket is
a system call that runs the TCP send and, on loopback, the receiver's side too (about 7 us
here). Python releases the GIL for it, so past ``PARALLEL_FROM`` connections the writes are
shared with a few helper threads. The calling thread (the event loop's) finds each stream's
socket and payload (``target``: the stream's own state, read where it is written) and hands
them over in blocks as it goes; the helpers write them meanwhile, in the kernel while the
caller is in Python. Once every block is handed over, the caller writes what is left with
them and waits for them, as it would have waited to write everything itself: nothing else
runs on the loop meanwhile, so no bytes interleave, and the helpers touch nothing but the
sockets they were handed.

A socket is written only when its transport has nothing queued (the caller's ``target``
says so), so the payload follows what was sent before. What a socket does not take at once
(its buffer is full) or refuses (the client left) is handed to its transport, which queues it
behind nothing and applies its own flow control and error handling as for any write.
"""

from __future__ import annotations

import asyncio
import gc
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from queue import Empty, SimpleQueue
from typing import TypeVar

PARALLEL_FROM = 256  # connections; below this the loop's thread writes them alone
THREADS = min(4, os.cpu_count() or 1)  # the loop's thread included
BLOCK = 64  # targets handed to the writing threads at a time

Target = tuple[int, asyncio.WriteTransport, bytes]  # socket descriptor, its transport, payload
T = TypeVar("T")
Short = list[tuple[asyncio.WriteTransport, bytes]]  # what sockets did not take

_pool: ThreadPoolExecutor | None = None


def write_all(items: Sequence[T], target: Callable[[T], Target | None]) -> list[T]:
    """Write to each item's socket the payload ``target`` names for it (``target`` runs in
    the calling thread); returns the items it named none for (in order), for the caller to
    send its own way."""
    if THREADS < 2 or len(items) < PARALLEL_FROM:
        return _alone(items, target)
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(THREADS - 1, thread_name_prefix="broadcast")
    blocks: SimpleQueue[list[Target] | None] = SimpleQueue()
    helpers = [_pool.submit(_write_blocks, blocks) for _ in range(THREADS - 1)]
    others: list[T] = []
    short: Short = []
    collecting = gc.isenabled()
    gc.disable()  # what is found waits in blocks: a collector's pass would hold them up
    block: list[Target] = []
    try:
        for item in items:
            found = target(item)
            if found is None:
                others.append(item)
                continue
            block.append(found)
            if len(block) == BLOCK:
                blocks.put(block)
                block = []
    finally:  # even if `target` failed: what it found is written, and the helpers stop
        blocks.put(block)
        for _ in helpers:
            blocks.put(None)  # after every block: each helper stops at one
        short += _write_blocks(blocks, helper=False)
        for helper in helpers:
            short += helper.result()
        for transport, rest in short:
            transport.write(rest)
        if collecting:
            gc.enable()
    return others


def _alone(items: Sequence[T], target: Callable[[T], Target | None]) -> list[T]:
    others: list[T] = []
    short: Short = []
    for item in items:
        found = target(item)
        if found is None:
            others.append(item)
        else:
            _write(found, short)
    for transport, rest in short:
        transport.write(rest)
    return others


def _write_blocks(blocks: SimpleQueue[list[Target] | None], helper: bool = True) -> Short:
    """Write the blocks taken from ``blocks``: a helper until it takes a stop; the calling
    thread, which has put every block already, until none is left (it leaves the stops)."""
    short: Short = []
    while True:
        if helper:
            block = blocks.get()
        else:
            try:
                block = blocks.get_nowait()
            except Empty:
                return short
        if block is None:
            if not helper:
                blocks.put(None)
            return short
        for found in block:
            _write(found, short)


def _write(found: Target, short: Short) -> None:
    fd, transport, payload = found
    try:
        written = os.write(fd, payload)
    except OSError:  # the buffer is full (BlockingIOError), or the connection broke
        written = 0
    if written != len(payload):
        short.append((transport, payload[written:]))
