"""``python -m runtime serve|migrate|demo|token|executions``."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from runtime import config as configuration
from runtime import logs, outbox
from runtime.auth import jwt, mint_token
from runtime.config import Config, ConfigError
from runtime.database import HEALTH_TABLE, HISTORY_TABLE, Store, is_database_failure, migrate
from runtime.loader import Registry, load_registry
from runtime.workflow import CompiledWorkflow, HttpTrigger, WorkflowInfo, access_of

ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def grants(registry: Registry, role: str) -> list[str]:
    """What the runtime's role may do: read and write rows, never own the tables (so the
    row-level security policies apply to it)."""
    if not ROLE_NAME.fullmatch(role):
        raise ConfigError(f"--grant {role!r}: a role name is lowercase letters, digits and _")
    tables = sorted(
        {e.table for e in registry.entities} | {HISTORY_TABLE, HEALTH_TABLE, outbox.TABLE}
    )
    return [f"GRANT SELECT, INSERT, UPDATE, DELETE ON {', '.join(tables)} TO {role}"]


async def apply_migrations(config: Config, registry: Registry, grant: str | None = None) -> int:
    store = Store(config)
    statements = list(registry.ddl(store.dialect))
    if grant is not None:
        if store.dialect != "postgresql":
            raise ConfigError("--grant applies to PostgreSQL only")
        statements += grants(registry, grant)
    await store.start()
    try:
        return await migrate(store, statements)
    finally:
        await store.stop()


# ----------------------------------------------------------------------------- commands


def cmd_serve(args: argparse.Namespace, config: Config) -> int:
    import uvicorn

    registry = load_registry(args.generated)
    if args.workers > 1 and config.events_url.startswith("memory://"):
        raise ConfigError(
            "--workers > 1 needs EVENTS_URL=redis://...: the in-process bus cannot carry "
            "events between worker processes"
        )
    if config.is_sqlite:  # the embedded default migrates itself; elsewhere `migrate` does
        asyncio.run(apply_migrations(config, registry))
    else:  # fail here with a message rather than in uvicorn's start-up with a traceback
        asyncio.run(preflight(config))
    if config.metrics_port is not None and args.workers > 1:
        raise ConfigError("METRICS_PORT serves one process: with --workers > 1 use /metrics")
    mounted = [w for w in registry.workflows if w.info.active or args.include_inactive]
    print(route_table(mounted, config, f"http://{args.host}:{args.port}"), file=sys.stderr)
    # Workers build the app from the environment (runtime.app:app_from_env).
    os.environ["RUNTIME_GENERATED"] = args.generated
    os.environ["RUNTIME_INCLUDE_INACTIVE"] = "1" if args.include_inactive else ""
    uvicorn.run(
        "runtime.app:app_from_env",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=args.log_level or (os.environ.get("LOG_LEVEL") or "info").lower(),
        log_config=None,  # the runtime's logging (LOG_LEVEL, LOG_FORMAT), in every worker
        timeout_graceful_shutdown=5,
        loop="uvloop",  # dependencies of the runtime: faster than asyncio's loop and h11
        http="httptools",
        # Subscriptions carry small JSON events, each encoded once for all its streams: a
        # compressed WebSocket would compress every event again in a zlib context of its own
        # (about 40 KiB a connection at uvicorn's settings), so the offer is declined.
        ws_per_message_deflate=False,
        access_log=args.access_log,
    )
    return 0


def route_table(mounted: Sequence[CompiledWorkflow], config: Config, base: str) -> str:
    """What ``serve`` mounts, as a framework prints it: method, path, workflow, access."""
    rows = [("METHOD", "PATH", "WORKFLOW", "ACCESS")]
    for wf in sorted(mounted, key=lambda w: w.info.id):
        access = access_of(wf)
        if access == "open" and config.open_routes == "protect":
            access = "open: a token or the internal key (OPEN_ROUTES=protect)"
        for t in wf.info.triggers:
            if isinstance(t, HttpTrigger):
                rows.append((t.method, t.path, wf.info.id, access))
            else:
                rows.append(("-", str(t), wf.info.id, "scheduled"))
    if not mounted:
        rows.append(("-", "-", "no active workflow (--include-inactive mounts the rest)", "-"))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = [
        "  " + "  ".join(c.ljust(w) for c, w in zip(r[:3], widths, strict=True)) + "  " + r[3]
        for r in rows
    ]
    extras = [f"{base}/openapi.json", f"{base}/docs"]
    if config.metrics != "off":
        extras.append(
            f"{base}/metrics"
            if config.metrics_port is None
            else f"metrics on port {config.metrics_port}"
        )
    if config.console != "off":
        extras.append(f"{base}/console" + (" (operator)" if config.console == "protect" else ""))
    return "\n".join([*lines, "  also: " + ", ".join(extras)])


async def preflight(config: Config) -> None:
    """Connect once and check that the tables exist, before serving."""
    store = Store(config)
    await store.start()
    try:
        async with store.transaction(writes=False, scan=True) as conn:
            await conn.fetch_one(f"SELECT 1 AS ok FROM {HISTORY_TABLE} LIMIT 1")
    finally:
        await store.stop()


def cmd_migrate(args: argparse.Namespace, config: Config) -> int:
    registry = load_registry(args.generated)
    n = asyncio.run(apply_migrations(config, registry, args.grant))
    print(f"migrated {config.database_url.split('@')[-1]}: {n} statement(s) applied")
    return 0


def load_fixtures(paths: Sequence[Path]) -> dict[str, object]:
    """Merge ``demo.json`` files: tenants' rows and the tokens to mint."""
    tenants: dict[str, dict[str, object]] = {}
    tokens: dict[str, object] = {}
    for path in paths:
        data = json.loads(path.read_text(encoding="utf-8"))
        for tenant, groups in data.get("tenants", {}).items():
            tenants.setdefault(tenant, {}).update(groups)
        tokens.update(data.get("tokens", {}))
    return {"tenants": tenants, "tokens": tokens}


async def load_demo(
    config: Config, registry: Registry, fixtures: dict[str, object]
) -> dict[str, object]:
    entities = {e.name: e for e in registry.entities}
    out: dict[str, object] = {}
    store = Store(config)
    await store.start()
    try:
        await migrate(store, registry.ddl(store.dialect))
        tenants = fixtures["tenants"]
        assert isinstance(tenants, dict)
        for tenant, groups in sorted(tenants.items()):
            async with store.writer(tenant) as conn:
                shown: dict[str, object] = {}
                assert isinstance(groups, dict)
                for group, spec in sorted(groups.items()):
                    if group == "examples":
                        shown[group] = spec
                        continue
                    entity = entities.get(spec["entity"])
                    if entity is None:
                        raise ConfigError(f"demo data names unknown entity {spec['entity']!r}")
                    rows = []
                    for row in spec["rows"]:
                        values = {**row, "tenantId": tenant}
                        cols = [entity.column(k) for k in values]
                        keys = [f"v{i}" for i in range(len(cols))]
                        pk = entity.column(entity.primary_key)
                        sets = ", ".join(f"{c} = excluded.{c}" for c in cols if c != pk)
                        await conn.execute(
                            f"INSERT INTO {entity.table} ({', '.join(cols)}) "
                            f"VALUES ({', '.join(':' + k for k in keys)}) "
                            f"ON CONFLICT ({pk}) DO UPDATE SET {sets}",
                            dict(zip(keys, values.values(), strict=True)),
                        )
                        rows.append(values)
                    shown[group] = rows
                out[tenant] = shown
    finally:
        await store.stop()
    token_specs = fixtures["tokens"]
    assert isinstance(token_specs, dict)
    for tenant, listing in out.items():
        assert isinstance(listing, dict)
        listing["tokens"] = {
            role: mint_token(
                config,
                tenant=tenant,
                user=f"{tenant}-{role}",
                level=int(spec.get("level", 1)),
                scopes=spec.get("scopes", []),
                name=f"{tenant.title()} {role}",
            )
            for role, spec in sorted(token_specs.items())
        }
    return {"tenants": out}


def cmd_demo(args: argparse.Namespace, config: Config) -> int:
    registry = load_registry(args.generated)
    paths = [Path(p) for p in args.fixtures] or sorted(Path(args.workflows).glob("*/demo.json"))
    if not paths:
        raise ConfigError(f"no demo.json under {args.workflows}/")
    demo = asyncio.run(load_demo(config, registry, load_fixtures(paths)))
    if args.json:
        print(json.dumps(demo, indent=2))
        return 0
    print(curl_guide(demo, registry, args.base_url))
    return 0


def _token_for(info: WorkflowInfo, tokens: dict[str, str]) -> str:
    """The demo token (by role) with the lowest level that has the workflow's minimum level
    and required scope; the lowest of all when none has them."""
    claims = {
        role: jwt.decode(tok, options={"verify_signature": False}) for role, tok in tokens.items()
    }

    def level(role: str) -> float:
        value = claims[role].get("level", 0)
        return float(value) if isinstance(value, int | float) else 0.0

    def passes(role: str) -> bool:
        scopes = claims[role].get("scopes") or []
        return level(role) >= (info.minimum_user_level or 0) and (
            info.permissions_required is None or info.permissions_required in scopes
        )

    ranked = sorted(tokens, key=lambda r: (level(r), r))
    return next((r for r in ranked if passes(r)), ranked[0])


def curl_guide(demo: dict[str, object], registry: Registry, base: str) -> str:
    """Ready-to-paste commands: every mounted route, for every demo tenant, with the tenant's
    example inputs and the least privileged demo token that passes its checks (the level and
    scope the workflow requires)."""
    lines = ["Demo data loaded. Try:", ""]
    tenants = demo["tenants"]
    assert isinstance(tenants, dict)
    for tenant, data in tenants.items():
        examples: dict[str, str] = data.get("examples", {})
        tokens: dict[str, str] = data["tokens"]
        lines.append(f"# {tenant}")
        for role, tok in tokens.items():
            lines.append(f"export {tenant.upper()}_{role.upper()}='{tok}'")
        for wf in registry.workflows:
            info = wf.info
            for trigger in info.triggers:
                if not isinstance(trigger, HttpTrigger):
                    continue
                path = trigger.path.replace("{tenant}", tenant)
                for name, value in examples.items():
                    path = path.replace("{" + name + "}", value)
                cmd = f"curl -N -X {trigger.method} {base}{path}"
                if info.checks_user and tokens:
                    role = _token_for(info, tokens)
                    cmd += f' -H "Authorization: Bearer ${tenant.upper()}_{role.upper()}"'
                if info.body_inputs:
                    body = {n: examples.get(n, "...") for n in info.body_inputs}
                    cmd += f" -H 'Content-Type: application/json' -d '{json.dumps(body)}'"
                lines.append(f"{cmd}   # {info.name}")
        lines.append("")
    return "\n".join(lines)


def cmd_token(args: argparse.Namespace, config: Config) -> int:
    print(
        mint_token(
            config,
            tenant=args.tenant,
            user=args.user,
            level=args.level,
            scopes=args.scope or [],
            name=args.name,
            email=args.email,
            ttl_s=args.ttl,
        )
    )
    return 0


async def list_executions(
    config: Config, tenant: str | None, failed: bool, limit: int
) -> list[dict[str, object]]:
    store = Store(config)
    await store.start()
    try:
        clauses: list[str] = []
        params: dict[str, object] = {"limit": limit}
        if tenant is not None:
            clauses.append("tenant_id = :tenant")
            params["tenant"] = tenant
        if failed:
            clauses.append("status <> 'success'")
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        async with store.transaction(writes=False) as conn:
            rows = await conn.fetch_all(
                f"SELECT * FROM {HISTORY_TABLE}{where} "
                "ORDER BY started_at DESC, id LIMIT :limit",
                params,
            )
        out = []
        for r in rows:
            row = dict(r._mapping)
            row["nodes"] = json.loads(str(row["nodes"]))
            out.append(row)
        return out
    finally:
        await store.stop()


def cmd_executions(args: argparse.Namespace, config: Config) -> int:
    rows = asyncio.run(list_executions(config, args.tenant, args.failed, args.limit))
    if args.json:
        for row in rows:
            print(json.dumps(row, separators=(",", ":")))
        return 0
    header = f"{'started':24} {'workflow':32} {'tenant':10} {'user':16} {'status':8} {'code':26} {'ms':>8}"
    print(header)
    for r in rows:
        print(
            f"{r['started_at']!s:24} {r['workflow_id']!s:32} {r['tenant_id']!s:10} "
            f"{(r['user_id'] or '-')!s:16} {r['status']!s:8} {(r['error_code'] or '-')!s:26} "
            f"{float(str(r['duration_ms'])):8.2f}"
        )
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m runtime", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    def generated(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--generated", default="generated", help="compiled workflows (generated/)")

    s = sub.add_parser("serve", help="serve the compiled workflows with uvicorn")
    generated(s)
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--include-inactive", action="store_true", help="mount inactive workflows")
    s.add_argument("--workers", type=int, default=1, help="worker processes (needs EVENTS_URL)")
    s.add_argument(
        "--log-level", default=None, help="uvicorn's log level (default: LOG_LEVEL, or info)"
    )
    s.add_argument(
        "--access-log",
        action="store_true",
        help="log a line per request (off by default: it costs about 0.1 ms of each)",
    )
    s.set_defaults(func=cmd_serve)

    s = sub.add_parser("migrate", help="create or upgrade the tables (idempotent)")
    generated(s)
    s.add_argument(
        "--grant", metavar="ROLE", help="PostgreSQL: let ROLE (the server's) read and write rows"
    )
    s.set_defaults(func=cmd_migrate)

    s = sub.add_parser("demo", help="load demo tenants and print tokens")
    generated(s)
    s.add_argument("--json", action="store_true", help="print one JSON object")
    s.add_argument("--workflows", default="workflows", help="where to find */demo.json")
    s.add_argument("--fixtures", nargs="*", default=[], help="demo.json files to load")
    s.add_argument("--base-url", default="http://127.0.0.1:8000")
    s.set_defaults(func=cmd_demo)

    s = sub.add_parser("token", help="mint a development token")
    s.add_argument("--tenant", required=True)
    s.add_argument("--user", required=True)
    s.add_argument("--level", type=int, default=1)
    s.add_argument("--scope", action="append", help="a scope (repeatable)")
    s.add_argument("--name")
    s.add_argument("--email")
    s.add_argument("--ttl", type=int, default=24 * 3600, help="seconds until it expires")
    s.set_defaults(func=cmd_token)

    s = sub.add_parser("executions", help="list recorded executions, newest first")
    s.add_argument("--tenant")
    s.add_argument("--failed", action="store_true", help="only executions that did not succeed")
    s.add_argument("--limit", type=int, default=50)
    s.add_argument("--json", action="store_true", help="one JSON object per line")
    s.set_defaults(func=cmd_executions)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        logs.configure()
        config = configuration.load()
        code: int = args.func(args, config)
        return code
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        if not is_database_failure(exc):
            raise
        where = re.sub(r"//[^@/]*@", "//", os.environ.get("DATABASE_URL") or "the default")
        print(f"error: database {where}: {type(exc).__name__}: {exc}", file=sys.stderr)
        if type(exc).__name__ == "UndefinedTableError" or "no such table" in str(exc):
            print("  help: run `python -m runtime migrate` first", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
