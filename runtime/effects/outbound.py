"""Effects delivered after the commit through the outbox whose answer nobody reads: an HTTP
call (``httpRequest`` whose output no node reads) and ``delete_recursive``."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from runtime.effects.files import check_paths, delete_paths
from runtime.effects.http import Outgoing, check_destination, prepare

if TYPE_CHECKING:
    from runtime.effects import Effects
    from runtime.execution import Execution


async def defer_http(
    ex: Execution,
    method: str,
    url: object,
    headers: dict[str, object],
    query: dict[str, object],
    body: object,
    timeout_ms: float | None,
) -> None:
    """Queue the call; its destination is checked now, so a refused one is the request's
    400 and not a failure after the commit."""
    call = await prepare(ex, method, url, headers, query, body, timeout_ms)
    await ex.defer("http", call.payload(), 3, ex.next_effect())


async def deliver_http(effects: Effects, payload: dict[str, object]) -> None:
    """Make a queued call; a network failure or a 5xx answer is retried."""
    call = Outgoing.from_payload(payload)
    if not call.own:
        await check_destination(effects.config, call.url)  # the address may have changed
    response = await effects.http.request(
        call.method,
        call.url,
        headers=call.headers,
        content=call.content.encode() if call.content is not None else None,
        timeout=call.timeout_s,
    )
    if response.status_code >= 500:
        raise RuntimeError(f"the destination answered {response.status_code}")


async def defer_delete(ex: Execution, paths: object) -> None:
    """Queue deleting ``paths`` (checked now against the storage root) after the commit: the
    files go only once the rows that name them are gone."""
    checked = check_paths(ex, paths)
    await ex.defer("delete", {"paths": checked}, 3, ex.next_effect())


async def deliver_delete(effects: Effects, payload: dict[str, object]) -> None:
    paths = payload.get("paths")
    items = [str(p) for p in paths] if isinstance(paths, list) else []
    await asyncio.to_thread(delete_paths, effects.config.storage_root, items)
