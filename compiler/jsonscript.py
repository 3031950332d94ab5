"""The older JSON Script v2.2 dialect (MetaBuilder's ``email_client``), read into the n8n-style
workflow the rest of the compiler knows.

A JSON Script file has ``startNode`` and nodes linked by ``nextNode``; a condition's
``onSuccess``/``onError`` are its true and false branches. Node kinds map as follows:

- ``{type: operation, op: condition}`` -> ``metabuilder.condition``;
- ``{type: operation, op: transform, mapping}`` -> ``metabuilder.transform`` (``output``);
- ``{type: operation, op: forEach, array, mapItem}`` -> a per-item loop (``$item``, and
  ``$parentJson`` for the loop's own ``$json``) around the one node ``mapItem``;
- ``{type: action, plugin: dbal.read|query|create|update|delete}`` -> ``metabuilder.database``;
  ``email.smtp.send`` -> the mail effect; any other plugin has no implementation (an error at
  its name);
- ``{type: output, output}`` -> ``http_response``: 200, or 400 when ``status`` is ``"error"``
  (its ``error``, a code, is also given as ``code``, the runtime's error shape).

``$json`` means the previous node's output (n8n's item flow): a condition passes its input on,
so after ``dbal.read`` and a condition, ``$json`` is the row that was read. The converted
workflow records, per node, whose output its ``$json`` is (``json_from``); the compiler then
types ``$json`` as that output. Every value keeps its place in the file, so diagnostics point
at the JSON Script text. Node ids become identifiers (``get-message`` -> ``get_message``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from compiler.diagnostics import Diagnostics, Position, Span
from compiler.load import JArray, JNumber, JObject, JString, JValue

DBAL = {
    "dbal.read": "database_read",
    "dbal.query": "database_read",
    "dbal.create": "database_create",
    "dbal.update": "database_update",
    "dbal.delete": "database_delete",
}
PLUGINS = {"email.smtp.send": "email.smtp.send"}


def is_json_script(root: JValue) -> bool:
    return (
        isinstance(root, JObject)
        and root.get("startNode") is not None
        and root.get("connections") is None
    )


@dataclass
class _Builder:
    path: str
    diags: Diagnostics
    json_from: dict[str, str] = field(default_factory=dict)
    loops: dict[str, str] = field(default_factory=dict)  # mapItem node -> its forEach node

    def span(self, near: Span) -> Span:
        """A zero-width place just inside ``near``'s ``{``: no string of the file starts
        there, so a template parsed by its offset never collides with one of the file's (a
        node's parameters hold at most one such string)."""
        o = near.start.offset + 1
        pos = Position(near.start.line, near.start.column + 1, o)
        return Span(self.path, pos, pos)

    def s(self, text: str, near: Span) -> JString:
        return JString(text, self.span(near))

    def obj(self, near: Span, *entries: tuple[str, JValue | None]) -> JObject:
        return JObject(tuple((self.s(k, near), v) for k, v in entries if v is not None), near)


def _dbal(b: _Builder, obj: JObject, given: JObject, plugin: JString) -> JObject:
    """A ``dbal.*`` plugin's params as ``metabuilder.database`` parameters: ``id`` becomes the
    filter on the primary key; ``entity``, ``filter``, ``data``, ``sort``, ``limit`` and
    ``offset`` keep their meaning."""
    entries: list[tuple[JString, JValue]] = [
        (b.s("operation", obj.span), b.s(DBAL[plugin.value], obj.span))
    ]
    id_entry = next(((k, v) for k, v in given.entries if k.value == "id"), None)
    filt: tuple[JString, JValue] | None = None
    for k, v in given.entries:
        if k.value == "id":
            continue
        if k.value == "filter":
            filt = (k, v)
            continue
        entries.append((k, v))
    if id_entry is not None:
        extra = filt[1].entries if filt is not None and isinstance(filt[1], JObject) else ()
        key = filt[0] if filt is not None else JString("filter", id_entry[0].span)
        entries.append((key, JObject((id_entry, *extra), id_entry[1].span)))
    elif filt is not None:
        entries.append(filt)
    return JObject(tuple(entries), given.span)


def _meta(b: _Builder, root: JObject, desc: JValue | None) -> JObject:
    """``meta``: the file's own (its ``triggers`` when it is not routed by an overlay), with
    the top-level ``description``."""
    given = root.get("meta")
    entries = list(given.entries) if isinstance(given, JObject) else []
    if desc is not None and not any(k.value == "description" for k, _ in entries):
        entries.append((b.s("description", root.span), desc))
    return JObject(tuple(entries), given.span if isinstance(given, JObject) else root.span)


def ident(text: str) -> str:
    out = re.sub(r"[^A-Za-z0-9_]", "_", text)
    return out if out and not out[0].isdigit() else f"n_{out}"


def convert(root: JObject, diags: Diagnostics) -> tuple[JObject, dict[str, str], dict[str, str]]:
    """The workflow in the n8n shape, whose ``$json`` each node reads (node -> the node whose
    output it is; absent: the trigger's input) and the loop each ``mapItem`` runs in."""
    b = _Builder(root.span.path, diags)
    nodes_v = root.get("nodes")
    items = nodes_v.items if isinstance(nodes_v, JArray) else ()
    by_id: dict[str, JObject] = {}
    for item in items:
        if isinstance(item, JObject):
            nid = item.get("id")
            if isinstance(nid, JString):
                by_id.setdefault(nid.value, item)
    out_nodes: list[JValue] = []
    connections: list[tuple[JString, JValue]] = []
    successors: dict[str, list[str]] = {}
    passes: set[str] = set()  # conditions: their output is their input

    def target(v: JValue | None) -> JString | None:
        if isinstance(v, JObject):
            v = v.get("nextNode")
        return v if isinstance(v, JString) else None

    def link(src: JObject, branches: list[JString | None]) -> None:
        nid = src.get("id")
        assert isinstance(nid, JString)
        if not any(branches):
            return
        main = JArray(
            tuple(
                JArray(
                    (
                        (
                            b.obj(
                                t.span,
                                ("node", JString(ident(t.value), t.span)),
                                ("index", JNumber(0, b.span(t.span))),
                            ),
                        )
                        if t is not None
                        else ()
                    ),
                    t.span if t is not None else src.span,
                )
                for t in branches
            ),
            src.span,
        )
        connections.append((JString(ident(nid.value), nid.span), b.obj(src.span, ("main", main))))
        successors[nid.value] = [t.value for t in branches if t is not None]

    def node(obj: JObject, nid: JString) -> JObject:
        kind = obj.get("type")
        op = obj.get("op")
        params: JObject
        ntype: JString
        if isinstance(kind, JString) and kind.value == "operation" and isinstance(op, JString):
            if op.value == "condition":
                ntype = JString("metabuilder.condition", op.span)
                params = b.obj(obj.span, ("condition", obj.get("condition")))
                passes.add(nid.value)
                link(obj, [target(obj.get("onSuccess")), target(obj.get("onError"))])
            elif op.value == "transform":
                ntype = JString("metabuilder.transform", op.span)
                params = b.obj(obj.span, ("output", obj.get("mapping")))
                link(obj, [target(obj.get("nextNode"))])
            elif op.value == "forEach":
                ntype = JString("jsonscript.forEach", op.span)
                params = b.obj(obj.span, ("array", obj.get("array")))
                inner = obj.get("mapItem")
                if isinstance(inner, JObject) and isinstance(inner.get("id"), JString):
                    iid = inner.get("id")
                    assert isinstance(iid, JString)
                    b.loops[ident(iid.value)] = ident(nid.value)
                    out_nodes.append(node(inner, iid))
                    # Output 0 runs per item (the mapItem node), output 1 after the loop.
                    link(obj, [JString(iid.value, iid.span), target(obj.get("nextNode"))])
                else:
                    link(obj, [None, target(obj.get("nextNode"))])
                passes.add(nid.value)  # the loop's $json (and what follows) is its input
            else:
                ntype = op  # unknown: reported as an unknown node type where it is written
                params = b.obj(obj.span)
        elif isinstance(kind, JString) and kind.value == "action":
            plugin = obj.get("plugin")
            given = obj.get("params")
            given = given if isinstance(given, JObject) else JObject((), obj.span)
            if isinstance(plugin, JString) and plugin.value in DBAL:
                ntype = JString("metabuilder.database", plugin.span)
                params = _dbal(b, obj, given, plugin)
            elif isinstance(plugin, JString) and plugin.value in PLUGINS:
                ntype = JString(PLUGINS[plugin.value], plugin.span)
                params = given
            else:
                # No implementation: an unknown node type at the plugin's name.
                ntype = plugin if isinstance(plugin, JString) else JString("action", obj.span)
                params = b.obj(obj.span)
            link(obj, [target(obj.get("nextNode"))])
        elif isinstance(kind, JString) and kind.value == "output":
            ntype = JString("metabuilder.action", kind.span)
            body = obj.get("output")
            status = body.get("status") if isinstance(body, JObject) else None
            failed = isinstance(status, JString) and status.value == "error"
            if failed and isinstance(body, JObject) and body.get("code") is None:
                # The runtime's error shape has `code`: the output's `error` (its code).
                code = next(((k, v) for k, v in body.entries if k.value == "error"), None)
                if code is not None:
                    body = JObject(
                        (*body.entries, (JString("code", code[0].span), code[1])), body.span
                    )
            params = b.obj(
                obj.span,
                ("action", b.s("http_response", obj.span)),
                ("status", JNumber(400 if failed else 200, b.span(obj.span))),
                ("body", body),
            )
        else:
            ntype = kind if isinstance(kind, JString) else JString("", obj.span)
            params = b.obj(obj.span)
        desc = obj.get("description")
        return b.obj(
            obj.span,
            ("id", JString(ident(nid.value), nid.span)),
            ("name", desc if isinstance(desc, JString) else JString(nid.value, nid.span)),
            ("type", ntype),
            ("typeVersion", JNumber(1, b.span(obj.span))),
            ("parameters", params),
        )

    for item in items:
        if not isinstance(item, JObject):
            continue
        nid = item.get("id")
        if not isinstance(nid, JString):
            continue
        out_nodes.append(node(item, nid))

    # Whose output `$json` is: walk from the start; a condition passes its input on.
    start = root.get("startNode")
    if isinstance(start, JString):
        stack: list[tuple[str, str | None]] = [(start.value, None)]
        seen: set[str] = set()
        while stack:
            nid_s, source = stack.pop()
            if nid_s in seen:
                continue
            seen.add(nid_s)
            key = ident(nid_s)
            if source is not None:
                b.json_from[key] = source
            produced = source if nid_s in passes else key
            for nxt in successors.get(nid_s, []):
                stack.append((nxt, produced))

    name = root.get("name")
    wid = root.get("id")
    version = root.get("version")
    desc = root.get("description")
    converted = b.obj(
        root.span,
        ("id", wid),
        ("name", name),
        ("active", None),
        ("versionId", version),
        ("nodes", JArray(tuple(out_nodes), nodes_v.span if nodes_v else root.span)),
        ("connections", JObject(tuple(connections), root.span)),
        ("meta", _meta(b, root, desc)),
    )
    return converted, b.json_from, b.loops
