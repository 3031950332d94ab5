"""The ceiling: the scene transition written by hand with Starlette and asyncpg, the same SQL as
the generated handler, and nothing else (no token, no tenant check, no row-level security, no
history, no events). Served like the runtime: uvicorn on uvloop with httptools, no access log.

Run: ``DATABASE_URL=postgresql://... python bench/handwritten_pg.py PORT``.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import asyncpg
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

UPDATE = (
    "UPDATE stream_channel SET active_scene_id = $1, scene_changed_at = $2, changed_by = $3 "
    "WHERE id = $4 AND tenant_id = $5 RETURNING 1 AS found"
)


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def create_app(url: str) -> Starlette:
    pool: asyncpg.Pool | None = None

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        nonlocal pool
        pool = await asyncpg.create_pool(url, min_size=10, max_size=10)
        yield
        await pool.close()

    async def transition(request: Request) -> Response:
        assert pool is not None
        body = json.loads(await request.body())
        scene = body.get("sceneId")
        if not isinstance(scene, str):
            return JSONResponse(
                {"error": "`sceneId` is required", "code": "VALIDATION_FAILED"}, 400
            )
        tenant, channel = request.path_params["tenant"], request.path_params["channelId"]
        async with pool.acquire() as conn:
            row = await conn.fetchrow(UPDATE, scene, now(), "hand-written", channel, tenant)
        if row is None:
            return JSONResponse({"error": "Channel not found", "code": "CHANNEL_NOT_FOUND"}, 404)
        return JSONResponse(
            {
                "ok": True,
                "message": "Scene updated successfully",
                "sceneId": scene,
                "timestamp": now(),
            }
        )

    path = "/api/v1/{tenant}/stream_cast/scenes/{channelId}/transition"
    return Starlette(routes=[Route(path, transition, methods=["POST"])], lifespan=lifespan)


if __name__ == "__main__":
    uvicorn.run(
        create_app(os.environ["DATABASE_URL"]),
        host="127.0.0.1",
        port=int(sys.argv[1]),
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="warning",
    )
