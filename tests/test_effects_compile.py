"""What the compiler decides about effects, and how it reads JSON Script: placement around
transactions, the secrets a log may not write, mail templates, and the older dialect's
`$json` (the previous node's output) with its located errors."""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path

from compiler.pipeline import compile_project
from tests.conftest import ROOT

WORKFLOWS = ROOT / "workflows" / "stream_cast"
USER = {"id": "validate_user", "type": "metabuilder.validate",
        "parameters": {"input": "{{ $context.user.id }}", "validator": "required"}}  # fmt: skip


def workflow(name: str, nodes: list[dict[str, object]]) -> dict[str, object]:
    full = [{"name": n["id"], "typeVersion": 1, **n} for n in nodes]
    links = {
        a["id"]: {"main": [[{"node": b["id"], "index": 0}]]} for a, b in itertools.pairwise(full)
    }
    return {"id": f"fx_{name}", "name": name, "active": True, "nodes": full, "connections": links,
            "meta": {"triggers": [f"POST /api/v1/{{tenant}}/stream_cast/{name}"]}}  # fmt: skip


def compile_docs(tmp: Path, docs: dict[str, dict[str, object]], files: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    pkg = tmp / "src" / "stream_cast"
    shutil.rmtree(tmp / "src", ignore_errors=True)
    pkg.mkdir(parents=True)
    shutil.copy(WORKFLOWS / "entities.json", pkg / "entities.json")
    for name, doc in docs.items():
        (pkg / f"{name}.json").write_text(json.dumps(doc, indent=2))
    for rel, text in (files or {}).items():
        (pkg / rel).parent.mkdir(parents=True, exist_ok=True)
        (pkg / rel).write_text(text)
    return compile_project([tmp / "src"])


def codes_of(res) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return [(d.code.name, d.message) for d in res.diagnostics.sorted()]


def test_an_effect_before_any_write_ends_the_read_transaction_first(tmp_path: Path) -> None:
    read = {"id": "fetch_channel", "type": "metabuilder.database", "parameters": {
        "operation": "database_read", "entity": "StreamChannel",
        "filter": {"id": "{{ $json.channelId }}", "tenantId": "{{ $context.tenantId }}"}}}  # fmt: skip
    call = {"id": "ask", "type": "n8n-nodes-base.httpRequest",
            "parameters": {"url": "https://api.example.com/x"}}  # fmt: skip
    answer = {"id": "respond", "type": "metabuilder.action", "parameters": {
        "action": "http_response", "body": {"s": "{{ $steps.ask.output.status }}",
                                             "n": "{{ $steps.fetch_channel.output.name }}"}}}  # fmt: skip
    res = compile_docs(tmp_path, {"probe": workflow("probe", [USER, read, call, answer])})
    assert not res.diagnostics.errors(), codes_of(res)
    module = res.files["stream_cast/probe.py"]
    assert "await ex.detach()" in module
    assert module.index("SQL_FETCH_CHANNEL,") < module.index("await ex.detach()")
    assert module.index("await ex.detach()") < module.index("await http_request(")


def test_an_unread_call_is_queued_and_a_read_one_after_a_write_warns(tmp_path: Path) -> None:
    write = {"id": "end_stream", "type": "metabuilder.database", "parameters": {
        "operation": "database_update", "entity": "StreamChannel", "data": {"isLive": False},
        "filter": {"id": "{{ $json.channelId }}", "tenantId": "{{ $context.tenantId }}"}}}  # fmt: skip
    ping = {"id": "ping", "type": "n8n-nodes-base.httpRequest",
            "parameters": {"url": "https://hooks.example.com/x", "method": "POST"}}  # fmt: skip
    res = compile_docs(tmp_path, {"ended": workflow("ended", [USER, write, ping])})
    assert not res.diagnostics.errors(), codes_of(res)
    module = res.files["stream_cast/ended.py"]
    assert "await defer_http(" in module and "http_request(" not in module
    assert "detach" not in module and "WORKFLOW" in module
    read_after = {**ping, "id": "ask"}
    answer = {"id": "respond", "type": "metabuilder.action", "parameters": {
        "action": "http_response", "body": {"s": "{{ $steps.ask.output.status }}"}}}  # fmt: skip
    res = compile_docs(tmp_path, {"ended": workflow("ended", [USER, write, read_after, answer])})
    assert [c for c, _ in codes_of(res)].count("effect-in-transaction") == 1


def test_logs_never_write_secrets(tmp_path: Path) -> None:
    token = {"id": "make_token", "type": "metabuilder.operation",
             "parameters": {"operation": "generate_random_token"}}  # fmt: skip
    for message in (
        "{{ $steps.make_token.output }}",
        "{{ 'pw=' + $json.password }}",
        "{{ $context.token }}",
        "{{ `key ${$json.apiKey}` }}",
    ):
        log = {"id": "note", "type": "metabuilder.action",
               "parameters": {"action": "log", "message": message}}  # fmt: skip
        res = compile_docs(tmp_path, {"leak": workflow("leak", [USER, token, log])})
        assert "sensitive-value-logged" in [c for c, _ in codes_of(res)], message
    fine = {"id": "note", "type": "metabuilder.action",
            "parameters": {"action": "log", "message": "{{ 'token made for ' + $context.user.id }}"}}  # fmt: skip
    res = compile_docs(tmp_path, {"leak": workflow("leak", [USER, token, fine])})
    assert not res.diagnostics.errors(), codes_of(res)


def test_mail_templates_are_checked_and_embedded(tmp_path: Path) -> None:
    mail = {"id": "send", "type": "metabuilder.operation", "parameters": {
        "operation": "email_send", "to": "{{ $context.user.email }}", "subject": "Hi",
        "template": "hello", "data": {"name": "{{ $context.user.name }}"}}}  # fmt: skip
    doc = {"mail": workflow("mail", [USER, mail])}
    broken = compile_docs(tmp_path, doc, {"templates/hello.txt": "Hi {% if name %}{{ name }}"})
    assert [c for c, _ in codes_of(broken)] == ["invalid-mail-template"], codes_of(broken)
    ok = compile_docs(tmp_path, doc, {"templates/hello.txt": "Hi {{ name }}\n",
                                      "templates/hello.html": "<b>{{ name }}</b>\n"})  # fmt: skip
    assert not ok.diagnostics.errors(), codes_of(ok)
    module = ok.files["stream_cast/mail.py"]
    assert "MAIL_HELLO: Final = {" in module and "<b>{{ name }}</b>" in module
    named = {**mail, "parameters": {**mail["parameters"], "template": "../../etc/passwd"}}  # type: ignore[dict-item]
    res = compile_docs(tmp_path, {"mail": workflow("mail", [USER, named])})
    assert (
        "invalid-parameter",
        "`../../etc/passwd` is not a template name (node `send`)",
    ) in codes_of(res)


def script(nodes: list[dict[str, object]], start: str) -> dict[str, object]:
    return {"id": "js", "name": "JS", "version": "2.2.0", "startNode": start,
            "meta": {"triggers": ["POST /api/v1/{tenant}/stream_cast/js"]}, "nodes": nodes}  # fmt: skip


def test_json_script_json_is_the_previous_nodes_output(tmp_path: Path) -> None:
    nodes = [
        {"id": "get-channel", "type": "action", "action": "workflow.plugins.ts",
         "plugin": "dbal.read", "params": {"entity": "StreamChannel", "id": "{{ $json.channelId }}"},
         "nextNode": "is-live"},
        {"id": "is-live", "type": "operation", "op": "condition", "condition": "{{ $json.isLive }}",
         "onSuccess": {"nextNode": "live"}, "onError": {"nextNode": "offline"}},
        {"id": "live", "type": "output", "output": {"status": "success", "name": "{{ $json.name }}"}},
        {"id": "offline", "type": "output",
         "output": {"status": "error", "message": "Offline", "error": "OFFLINE"}},
    ]  # fmt: skip
    res = compile_docs(tmp_path, {"js": script(nodes, "get-channel")})
    assert not res.diagnostics.errors(), codes_of(res)
    module = res.files["stream_cast/js.py"]
    assert 'get_channel["isLive"]' in module and 'get_channel["name"]' in module
    assert '"code": "OFFLINE"' in module and "JsonResult(\n            400" in module
    # A field the row does not have is an error where it is read.
    nodes[2] = {**nodes[2], "output": {"owner": "{{ $json.ownerId }}"}}
    res = compile_docs(tmp_path, {"js": script(nodes, "get-channel")})
    [(code, message)] = [(d.code.name, d.message) for d in res.diagnostics.errors()]
    assert code == "unknown-property" and "ownerId" in message


def test_json_script_plugins_without_an_implementation_are_located(tmp_path: Path) -> None:
    nodes = [
        {"id": "fetch", "type": "action", "action": "workflow.plugins.python",
         "plugin": "email.imap.fetch", "params": {"host": "x"}, "nextNode": "done"},
        {"id": "done", "type": "output", "output": {"count": "{{ $json.messages.length }}"}},
    ]  # fmt: skip
    res = compile_docs(tmp_path, {"js": script(nodes, "fetch")})
    errors = res.diagnostics.errors()
    assert [d.code.name for d in errors] == ["unknown-node-type"]
    text = (tmp_path / "src" / "stream_cast" / "js.json").read_text()
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "email.imap.fetch" in t)
    assert errors[0].span.start.line == line and "email.imap.fetch" in errors[0].message
