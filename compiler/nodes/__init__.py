"""The registry of node kinds: one module per kind, listed once here.

Everything else that depends on the set of kinds (parsing in the model stage, branch arity
in the graph, the explanation of ``unknown-node-type``, the README's table) reads it from
``KINDS``. Adding a kind is adding its module and its line below; see the README's
"Adding a node kind".
"""

from __future__ import annotations

from compiler.nodes.base import NodeKind


def _kinds() -> dict[str, NodeKind]:
    from compiler.nodes import action, condition, database, operation, validate

    return {m.KIND.type: m.KIND for m in (validate, database, condition, action, operation)}


KINDS: dict[str, NodeKind] = _kinds()
