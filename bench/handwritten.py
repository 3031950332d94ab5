"""The baseline: the Stream Cast routes written by hand with Starlette + databases, doing
the same SQL as the generated handlers, on the same connection pool and SQLite write lock
(so the comparison measures the generated code and the runtime around it, nothing else)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import jwt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from runtime.config import Config
from runtime.database import Store
from runtime.events import Event, LocalBus, sse_frame

LOOKUP = "SELECT 1 AS found FROM stream_channel WHERE id = :id AND tenant_id = :t LIMIT 1"
INSERT = (
    "INSERT INTO stream_subscription (id, channel_id, user_id, tenant_id, subscribed_at) "
    "SELECT :id, :c, :u, :t, :at WHERE (SELECT COUNT(*) FROM stream_subscription "
    "WHERE user_id = :u AND tenant_id = :t) < 100 ON CONFLICT DO NOTHING "
    "RETURNING id, channel_id, user_id, tenant_id, subscribed_at"
)
EXISTING = (
    "SELECT id, channel_id, user_id, tenant_id, subscribed_at FROM stream_subscription "
    "WHERE channel_id = :c AND user_id = :u AND tenant_id = :t LIMIT 1"
)
DELETE = (
    "DELETE FROM stream_subscription WHERE channel_id = :c AND user_id = :u AND tenant_id = :t "
    "RETURNING id AS key"
)
UPDATE = (
    "UPDATE stream_channel SET active_scene_id = :s, scene_changed_at = :at, changed_by = :u "
    "WHERE id = :id AND tenant_id = :t RETURNING 1 AS found"
)


class QueueSink(asyncio.Queue[Event | None]):
    """A subscriber's events in a queue, read by the response's generator (one task a
    stream, the way a hand-written handler would do it)."""

    def offer(self, event: Event) -> None:
        self.put_nowait(event)

    def direct(self, event: Event) -> None:
        return None  # every event goes through the queue

    def spill(self, rest: bytes) -> None:
        raise AssertionError("no direct write, so nothing left over")

    def end(self) -> None:
        self.put_nowait(None)


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def error(status: int, message: str, code: str, **extra: object) -> Response:
    return JSONResponse({"error": message, "code": code, **extra}, status_code=status)


def create_handwritten_app(config: Config) -> Starlette:
    store = Store(config)
    bus = LocalBus()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await store.start()
        yield
        await store.stop()

    def user_of(request: Request) -> dict[str, object] | None:
        auth = request.headers.get("authorization")
        if auth is None:
            return None
        claims: dict[str, object] = jwt.decode(
            auth.removeprefix("Bearer "), config.jwt_key, algorithms=[config.jwt_algorithm]
        )
        return claims

    async def subscribe(request: Request) -> Response:
        tenant = request.path_params["tenant"]
        user = user_of(request)
        if user is None:
            return error(401, "User authentication required", "AUTH_REQUIRED")
        body = json.loads(await request.body())
        channel = body.get("channelId")
        if not isinstance(channel, str):
            return error(400, "`channelId` is required", "VALIDATION_FAILED", field="channelId")
        async with store.transaction(writes=True) as conn:
            if await conn.fetch_one(LOOKUP, {"id": channel, "t": tenant}) is None:
                return error(404, "Channel not found", "CHANNEL_NOT_FOUND")
            values = {"c": channel, "u": user["sub"], "t": tenant}
            row = await conn.fetch_one(INSERT, {**values, "id": str(uuid.uuid4()), "at": now()})
            if row is None:
                row = await conn.fetch_one(EXISTING, values)
            if row is None:
                return error(409, "Limit reached", "SUBSCRIPTION_LIMIT_REACHED")
            sub_id = row._mapping["id"]
        sub = await bus.subscribe(tenant, "stream:" + channel, ("stream_subscription", sub_id))

        queue = QueueSink()
        sub.attach(queue)

        async def events() -> AsyncIterator[bytes]:
            try:
                data = json.dumps({"subscriptionId": sub_id, "userId": user["sub"]})
                yield sse_frame(data, "connected", None, 5000)
                while (event := await queue.get()) is not None:
                    yield event.frame
            finally:
                await bus.unsubscribe(sub)

        return StreamingResponse(events(), media_type="text/event-stream")

    async def unsubscribe(request: Request) -> Response:
        tenant = request.path_params["tenant"]
        user = user_of(request)
        if user is None:
            return error(401, "User authentication required", "AUTH_REQUIRED")
        body = json.loads(await request.body())
        channel = body.get("channelId")
        if not isinstance(channel, str):
            return error(400, "`channelId` is required", "VALIDATION_FAILED", field="channelId")
        async with store.transaction(writes=True) as conn:
            row = await conn.fetch_one(DELETE, {"c": channel, "u": user["sub"], "t": tenant})
            if row is None:
                return error(404, "Subscription not found", "SUBSCRIPTION_NOT_FOUND")
        await bus.release(tenant, "stream_subscription", str(row._mapping["key"]))
        return JSONResponse(
            {"ok": True, "message": "Unsubscribed successfully", "timestamp": now()}
        )

    async def transition(request: Request) -> Response:
        tenant = request.path_params["tenant"]
        channel = request.path_params["channelId"]
        user = user_of(request)
        if user is None:
            return error(401, "User authentication required", "AUTH_REQUIRED")
        scopes = user.get("scopes")
        if not isinstance(scopes, list) or "stream_cast:scenes:manage" not in scopes:
            return error(403, "Missing scope", "AUTH_MISSING_SCOPE")
        level = user.get("level")
        if not isinstance(level, int) or level < 2:
            return error(
                403,
                "Insufficient permissions",
                "AUTH_INSUFFICIENT_LEVEL",
                requiredLevel=2,
                userLevel=level,
            )
        body = json.loads(await request.body())
        scene = body.get("sceneId")
        if not isinstance(scene, str):
            return error(400, "`sceneId` is required", "VALIDATION_FAILED", field="sceneId")
        at = now()
        async with store.transaction(writes=True) as conn:
            row = await conn.fetch_one(
                UPDATE, {"s": scene, "at": at, "u": user["sub"], "id": channel, "t": tenant}
            )
            if row is None:
                return error(404, "Channel not found", "CHANNEL_NOT_FOUND")
        event = {
            "sceneId": scene,
            "channelId": channel,
            "transitionTime": at,
            "changedBy": user["sub"],
            "changedByName": user.get("name"),
            "tenantId": tenant,
        }
        await bus.publish(tenant, "stream:" + channel, "scene_changed", json.dumps(event))
        return JSONResponse(
            {
                "ok": True,
                "message": "Scene updated successfully",
                "sceneId": scene,
                "timestamp": at,
            }
        )

    base = "/api/v1/{tenant}/stream_cast"
    return Starlette(
        routes=[
            Route(f"{base}/subscribe", subscribe, methods=["POST"]),
            Route(f"{base}/unsubscribe", unsubscribe, methods=["POST"]),
            Route(f"{base}/scenes/{{channelId}}/transition", transition, methods=["POST"]),
        ],
        lifespan=lifespan,
    )
