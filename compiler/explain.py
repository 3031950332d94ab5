"""Long explanations for ``python -m compiler explain CODE``: what it means, an example, the fix."""

from __future__ import annotations

from compiler import codes

_LONG: dict[str, tuple[str, str, str]] = {
    "tenant-filter-missing": (
        "Every database operation on a tenant-scoped entity filters on the tenant, so a request "
        "can only reach rows of its own tenant. Without a tenantId filter the compiler adds "
        "`tenantId = $context.tenantId`, as MetaBuilder's DBAL does, and warns so the implied "
        "filter is visible in review; write it to silence the warning.",
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
    "workflow-too-large": (
        "A workflow may have at most 1,000 nodes: the compile time and the generated module "
        "grow with every node, and a workflow that size is several workflows.",
        '"nodes": [ ... 1,001 nodes ... ]',
        "split it into workflows that call each other through events or routes",
    ),
    "expression-too-deep": (
        "The parser, the translator and Python's own compiler recurse on an expression's "
        "nesting, so it is bounded: at most 32 levels of parentheses, brackets, `!`, `**` or "
        "`?:` inside each other, and a tree at most 64 deep (long chains of `+` or `.` count). "
        "Real workflows stay far below; a generated or hostile one gets this error instead of "
        "a crash or a module that cannot load.",
        '"{{ ((((((((((((((((((((((((((((((((((1)))))))))))))))))))))))))))))))))) }}"',
        "compute part of it in an earlier node and read that node's output",
    ),
    "invalid-json": (
        "The file must be JSON (RFC 8259): no comments, no trailing commas, double-quoted keys "
        "and strings. The caret points at the first character the parser could not accept.",
        '{ "id": "x", }',
        '{ "id": "x" }',
    ),
    "duplicate-key": (
        "JSON parsers disagree on a repeated key (most keep the last one silently), so the "
        "compiler refuses it rather than guess which value was meant.",
        '"name": "Subscribe", "name": "Subscribe to Stream"',
        '"name": "Subscribe to Stream"',
    ),
    "invalid-yaml": (
        "A DBAL entity file (--metabuilder ROOT: dbal/shared/api/schema/entities/**/*.yaml) "
        "must be YAML; the caret points where the YAML parser gave up.",
        "fields:\n  id: {type: cuid, primary: true\n",
        "fields:\n  id: {type: cuid, primary: true}\n",
    ),
    "unreadable-file": (
        "A path under workflows/ ending in .json could not be read (a folder named like a file, "
        "missing permissions, a broken link).",
        "workflows/stream_cast/broken.json/  (a folder)",
        "rename or remove it; workflow files are regular UTF-8 files",
    ),
    "schema-violation": (
        "A value does not match the workflow format (compiler/schemas/workflow.schema.json): an "
        "enum value, a number out of range, a string that does not match its pattern.",
        '"errorHandler": "retry"',
        '"errorHandler": "throw"   (or "log")',
    ),
    "unknown-key": (
        "An object has a key the format does not define, usually a typo; unknown keys are "
        "errors so that a misspelled setting never silently does nothing.",
        '"typeVersoin": 1',
        '"typeVersion": 1',
    ),
    "missing-key": (
        "An object lacks a key the format requires (a workflow needs id, name, nodes and "
        "connections; a node needs id, name, type, typeVersion and parameters).",
        '{ "id": "wf", "name": "W", "nodes": [] }',
        '{ "id": "wf", "name": "W", "nodes": [], "connections": {} }',
    ),
    "wrong-type": (
        "A value has the wrong JSON type: a string where a boolean, number, array or object "
        "belongs.",
        '"active": "yes"',
        '"active": true',
    ),
    "unsupported-type-version": (
        "Each node type has versions the compiler knows how to translate; today every type is "
        "at typeVersion 1.",
        '"typeVersion": 2',
        '"typeVersion": 1',
    ),
    "duplicate-node-id": (
        "Node ids name nodes in connections and in $steps, so they must be unique within a "
        "workflow.",
        'two nodes with "id": "fetch_channel"',
        'rename one: "id": "fetch_channel_again"',
    ),
    "duplicate-workflow-id": (
        "Workflow ids identify workflows in the registry and the execution history; two files "
        "may not share one.",
        'unsubscribe.json with "id": "stream_cast_subscribe_001"',
        '"id": "stream_cast_unsubscribe_001"',
    ),
    "unknown-entity": (
        "A database operation names an entity that entities.json does not declare.",
        '"entity": "StreamChanel"',
        '"entity": "StreamChannel"   (or declare it in entities.json)',
    ),
    "unknown-field": (
        "Every key of a filter or data object must be a field of the entity, so a typo cannot "
        "turn into a filter that matches nothing or a value that is never stored.",
        '"data": { "chanelId": "{{ $json.channelId }}" }',
        '"data": { "channelId": "{{ $json.channelId }}" }',
    ),
    "missing-entities": (
        "Each package folder under workflows/ declares the entities its workflows use in "
        "entities.json; the compiler checks fields and generates the tables from it.",
        "workflows/stream_cast/ without entities.json",
        'add workflows/stream_cast/entities.json: { "entities": { "StreamChannel": { ... } } }',
    ),
    "invalid-entity": (
        "An entity declaration contradicts itself: a primary key, unique key or index names a "
        "field the entity does not have, or a default does not fit its field's type.",
        '"primaryKey": "channelId"   (no such field)',
        '"primaryKey": "id"',
    ),
    "missing-parameter": (
        "A node lacks a parameter its operation needs: a create must give every field that has "
        "no default and is not nullable; a read needs an entity; an emit needs an event.",
        '"data": { "channelId": "...", "userId": "...", "tenantId": "..." }   (no subscribedAt)',
        '"subscribedAt": "{{ new Date().toISOString() }}"   (or a default in entities.json)',
    ),
    "invalid-parameter": (
        "A node parameter has a value the node cannot use: an unknown operation or key, a "
        "negative limit, a status code outside 100-599.",
        '"limit": -5',
        '"limit": 100',
    ),
    "invalid-name": (
        "Package folders and workflow file names become Python module names in generated/, so "
        "they must be identifiers (letters, digits, underscores), and not entities or registry.",
        "workflows/stream_cast/Subscribe Now.json",
        "workflows/stream_cast/subscribe_now.json",
    ),
    "invalid-trigger": (
        "An HTTP trigger is `METHOD /api/v1/{tenant}/...` (the tenant comes from the path and "
        "must match the token's); a schedule is `SCHEDULED:every_<n>_<milliseconds|seconds|minutes|hours>`.",
        '"triggers": ["POST /stream_cast/subscribe"]',
        '"triggers": ["POST /api/v1/{tenant}/stream_cast/subscribe"]',
    ),
    "duplicate-route": (
        "Two workflows claim the same method and path; the server could mount only one.",
        'unsubscribe.json: "triggers": ["POST /api/v1/{tenant}/stream_cast/subscribe"]',
        '"triggers": ["POST /api/v1/{tenant}/stream_cast/unsubscribe"]',
    ),
    "unknown-connection-source": (
        "A key of `connections` names a node that does not exist, so its outputs go nowhere.",
        '"connections": { "fetch_chanel": { ... } }',
        '"connections": { "fetch_channel": { ... } }',
    ),
    "unreachable-node": (
        "No path of connections leads from the first node to this one, so it never runs.",
        'a node "audit_log" that no connection targets',
        "connect it from the node it should follow, or delete it",
    ),
    "several-roots": (
        "A workflow starts at exactly one node (the one no connection targets); several such "
        "nodes mean a connection is missing.",
        '"connections" without an entry for "validate_context"',
        '"validate_context": { "main": [[{ "node": "fetch_channel", "index": 0 }]] }',
    ),
    "no-nodes": (
        "A workflow without nodes does nothing.",
        '"nodes": []',
        "add the nodes the workflow runs, or delete the file",
    ),
    "invalid-branch": (
        "Only a condition node has two outputs (main[0] true, main[1] false); other nodes have "
        "one.",
        '"fetch_channel": { "main": [[...], [{ "node": "setup_sse", "index": 0 }]] }',
        '"fetch_channel": { "main": [[{ "node": "create_subscription", "index": 0 }]] }',
    ),
    "fan-in": (
        "A node may be reached from one place only: with two incoming connections, the values "
        "its expressions read ($steps of which branch?) would be ambiguous.",
        "validate_context -> create_subscription and fetch_channel -> create_subscription",
        "keep one incoming connection",
    ),
    "expression-syntax": (
        "The text between {{ and }} is not a JavaScript expression the parser can read.",
        '"channel": "{{ \'stream:\' + $json. }}"',
        '"channel": "{{ \'stream:\' + $json.channelId }}"',
    ),
    "unknown-root": (
        "Expressions start from $json (the trigger input), $context (tenantId, user, request) or "
        "$steps (the outputs of upstream nodes).",
        '"{{ $user.id }}"',
        '"{{ $context.user.id }}"',
    ),
    "unknown-property": (
        "The compiler knows the shape of $context, of entity rows and of node outputs; reading "
        "a property they do not have would be undefined at run time.",
        '"{{ $context.user.identifier }}"',
        '"{{ $context.user.id }}"',
    ),
    "unknown-step": (
        "$steps.<id> must name a node that runs before this one on every path that reaches it.",
        '"{{ $steps.create_subscriptions.output.id }}"',
        '"{{ $steps.create_subscription.output.id }}"',
    ),
    "unknown-method": (
        "The value has no such method in the supported subset (string and array methods, Date "
        "methods).",
        '"{{ $json.channelId.toSnakeCase() }}"',
        '"{{ $json.channelId.toLowerCase() }}"',
    ),
    "expression-type": (
        "An expression's type cannot be stored in the field it is used for (a string into a "
        "boolean column, a number into a string id).",
        '"filter": { "isLive": "{{ $json.channelId }}" }',
        '"filter": { "isLive": true }',
    ),
    "effect-in-transaction": (
        "A call outside the database that the workflow waits for (an HTTP request whose answer "
        "it reads, a bcrypt hash, media analysis) runs outside any transaction when nothing "
        "was written before it: the runtime ends the read-only transaction first. After a "
        "write it cannot (the write must commit with the rest), so the transaction, its "
        "connection and on SQLite the process's write lock are held across the call.",
        "update_stream (database_update) -> notify (httpRequest, its status read) -> respond",
        "notify -> update_stream -> respond: call first, then write",
    ),
    "jwt-secret-ignored": (
        "generate_jwt signs with the runtime's own key and algorithm (JWT_SECRET, or "
        "JWT_PRIVATE_KEY for RS256), the key its tokens are verified with. A secret named in "
        "the workflow is not used: it could drift from the verifying key or leak in the file.",
        '"secret": "{{ $env.JWT_SECRET }}"',
        "remove `secret`",
    ),
    "mail-template-missing": (
        "email_send (and smtp-relay-send) name a template: templates/<name>.txt (the text "
        "part) and/or templates/<name>.html (autoescaped) beside the workflow or in its "
        "package folder. Without the files the message's text lists its data, one line each.",
        '"template": "password_reset"   (no templates/password_reset.txt)',
        "add templates/password_reset.txt: Hello {{ displayName }}, ... {{ resetLink }}",
    ),
    "invalid-mail-template": (
        "A mail template is jinja2 (sandboxed). It must parse, and every variable it reads "
        "must be a key of the node's `data`, so a message never goes out with a blank where a "
        "link belongs.",
        'templates/welcome.txt reads {{ plan }}; "data": { "name": ... }',
        'add "plan" to `data`, or remove {{ plan }} from the template',
    ),
    "sensitive-value-logged": (
        "Hashes and tokens a node makes (bcrypt_hash, generate_jwt, generate_random_token, "
        "sha256) and the request's bearer token ($context.token) never reach the log or the "
        "execution history; a log node whose message reads one is refused.",
        '"message": "{{ \'reset token \' + $steps.make_token.output }}"',
        '"message": "{{ \'reset token made for \' + $context.user.id }}"',
    ),
    "unused-input": (
        "meta.inputs documents the trigger input; an entry no node reads is either dead "
        "documentation or a misspelled field.",
        '"inputs": { "referrer": "Where the viewer came from" }   (no node reads $json.referrer)',
        "remove the entry, or read it in a node",
    ),
    "contradictory-guards": (
        "A condition without a connected false branch is a guard: false refuses the request. "
        "Two guards on one path that test the same value for opposite outcomes (x and !x, or "
        "x === 'a' then x === 'b') refuse every request; it is usually an if/else written as "
        "a chain.",
        '"check_bulk": "{{ Array.isArray($json.ids) }}" -> "check_single": "{{ !Array.isArray($json.ids) }}"',
        "connect the single-id path to output 1 of check_bulk",
    ),
    "falsy-fallback": (
        "`a || b` uses b when a is falsy. When b is arithmetic on constants that comes out "
        "falsy (0, NaN), the fallback can never apply; it is usually a precedence slip: "
        "`$json.page || 1 - 1` is `$json.page || 0`, not `($json.page || 1) - 1`.",
        '"offset": "{{ ($json.page || 1 - 1) * 20 }}"',
        '"offset": "{{ (($json.page || 1) - 1) * 20 }}"',
    ),
    "unknown-static-data": (
        "staticData keys the runtime acts on: reconnectInterval, subscriptionTimeout, "
        "maxSubscriptionsPerUser, updateInterval, maxChannels. Any other key does nothing.",
        '"staticData": { "maxViewers": 10 }',
        "remove it, or use one of the keys above",
    ),
    "inactive-workflow": (
        'A workflow with "active": false is compiled and checked but not served unless the '
        "server runs with --include-inactive.",
        '"active": false',
        '"active": true   (or serve with --include-inactive)',
    ),
    "unauthenticated-route": (
        "An HTTP trigger whose workflow never checks $context.user can be called by anyone who "
        "knows the tenant's name. Intended for some routes (health, public counters); the "
        "warning makes the choice visible in review. The runtime can guard such routes: with "
        "OPEN_ROUTES=protect (the default when RUNTIME_ENV=production) they take a token of "
        "the tenant or the X-Internal-Key header.",
        "a workflow that starts with a database read and has an HTTP trigger",
        'start it with a validate node on "{{ $context.user.id }}"',
    ),
    "internal-error": (
        "The compiler failed on this input. This is a bug in the compiler, not in the workflow; "
        "the message names the stage that failed.",
        "any input that makes the compiler fail",
        "report it with the workflow file; meanwhile, change the construct the message names",
    ),
    "schedule-disagreement": (
        "meta.schedule (cron), the SCHEDULED trigger and staticData.updateInterval give different periods. "
        "The runtime runs the workflow every updateInterval milliseconds.",
        '"schedule": "*/5 * * * *" with "updateInterval": 5000',
        'make them agree, e.g. drop meta.schedule or set "SCHEDULED:every_5_minutes" and 300000',
    ),
}


def _from_registries() -> dict[str, tuple[str, str, str]]:
    """The explanations that list what the registries hold, so they cannot go stale."""
    from compiler.expressions import methods
    from compiler.nodes import KINDS
    from compiler.nodes.validate import VALIDATORS

    calls = ", ".join(
        sorted({m.name for m in methods.METHODS if m.receiver in ("string", "array")})
    )
    return {
        "unknown-node-type": (
            "Node types are " + ", ".join(KINDS) + ".",
            '"type": "metabuilder.databse"',
            '"type": "metabuilder.database"',
        ),
        "unknown-validator": (
            "A validate node's validator must be one the compiler knows: "
            + ", ".join(VALIDATORS)
            + ".",
            '"validator": "requird"',
            '"validator": "required"',
        ),
        "unsupported-expression": (
            "Expressions are a JavaScript subset: literals, $json, $context, $steps, member access "
            "(. [] ?.), the operators + - * / % ** ! typeof == != === !== < <= > >= && || ?? ?:, "
            "new Date(), Date.now(), Date.parse(), String(), Number(), Boolean(), Math."
            + ", Math.".join(sorted(methods.names("Math")))
            + ", JSON.stringify and these string and array methods: "
            + calls
            + " (Date values: "
            + ", ".join(sorted(methods.names("Date")))
            + "). Anything else is rejected at compile time.",
            '"{{ $json.items.map(x => x.id) }}"',
            "compute per-item values with a database read (its downstream nodes run once per item)",
        ),
    }


def explain(name: str) -> str | None:
    code = codes.lookup(name)
    if code is None:
        return None
    lines = [f"{code.name} ({code.severity.value}): {code.summary}"]
    long = _LONG.get(name) or _from_registries().get(name)
    if long:
        what, bad, good = long
        lines += ["", what, "", "Example that fails:", f"    {bad}", "", "Fix:", f"    {good}"]
    return "\n".join(lines)
