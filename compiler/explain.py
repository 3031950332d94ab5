"""Long explanations for ``python -m compiler explain CODE``: what it means, an example, the fix."""

from __future__ import annotations

from compiler import codes

_LONG: dict[str, tuple[str, str, str]] = {
    "tenant-filter-missing": (
        "Every database operation must filter on the tenant, so a request can only reach rows of its "
        "own tenant.",
        '"filter": { "id": "{{ $json.id }}" }',
        '"filter": { "id": "{{ $json.id }}", "tenantId": "{{ $context.tenantId }}" }',
    ),
    "tenant-filter-not-context": (
        "The tenant filter must be exactly `{{ $context.tenantId }}`: the tenant of the authenticated "
        "request. Input (`$json.tenantId`), literals and expressions that merely contain it are rejected.",
        '"tenantId": "{{ $json.tenantId }}"',
        '"tenantId": "{{ $context.tenantId }}"',
    ),
    "tenant-data-missing": (
        "A create must write the tenant of the request into the new row.",
        '"data": { "name": "x" }',
        '"data": { "name": "x", "tenantId": "{{ $context.tenantId }}" }',
    ),
    "tenant-data-not-context": (
        "A create or update may write tenantId only as `{{ $context.tenantId }}`; anything else could "
        "move a row into another tenant.",
        '"data": { "tenantId": "acme" }',
        '"data": { "tenantId": "{{ $context.tenantId }}" }',
    ),
    "workflow-tenant": (
        "A workflow runs in the tenant of its request; its own tenantId must say so.",
        '"tenantId": "acme"',
        '"tenantId": "{{ $context.tenantId }}"',
    ),
    "cycle": (
        "Workflows run top to bottom once; connections may not lead back to an earlier node.",
        '"b": { "main": [[{ "node": "a", "index": 0 }]] }  (while a connects to b)',
        "remove the connection that closes the loop",
    ),
    "dangling-connection": (
        "A connection names a target node that the workflow does not have (often a typo).",
        '{ "node": "fetch_chanel", "index": 0 }',
        '{ "node": "fetch_channel", "index": 0 }',
    ),
    "unsupported-expression": (
        "Expressions are a JavaScript subset: literals, $json, $context, $steps, member access (. [] ?.), "
        "the operators + - * / % ** ! typeof == != === !== < <= > >= && || ?? ?:, new Date(), Date.now(), "
        "String(), Number(), Boolean(), Math.*, JSON.stringify and the common string and array methods "
        "(includes, startsWith, endsWith, indexOf, slice, substring, trim, toUpperCase, toLowerCase, split, "
        "padStart, padEnd, repeat, charAt, at, concat, join). Anything else is rejected at compile time.",
        '"{{ $json.items.map(x => x.id) }}"',
        "compute per-item values with a database read (its downstream nodes run once per item)",
    ),
    "schedule-disagreement": (
        "meta.schedule (cron), the SCHEDULED trigger and staticData.updateInterval give different periods. "
        "The runtime runs the workflow every updateInterval milliseconds.",
        '"schedule": "*/5 * * * *" with "updateInterval": 5000',
        'make them agree, e.g. drop meta.schedule or set "SCHEDULED:every_5_minutes" and 300000',
    ),
}


def explain(name: str) -> str | None:
    code = codes.lookup(name)
    if code is None:
        return None
    lines = [f"{code.name} ({code.severity.value}): {code.summary}"]
    long = _LONG.get(name)
    if long:
        what, bad, good = long
        lines += ["", what, "", "Example that fails:", f"    {bad}", "", "Fix:", f"    {good}"]
    return "\n".join(lines)
