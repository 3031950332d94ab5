"""The registry of node kinds: every module of this package that defines ``KIND``.

Everything else that depends on the set of kinds (parsing in the model stage, branch arity
in the graph, the explanation of ``unknown-node-type``, the README's table) reads it from
``KINDS``. Adding a kind is adding its module; see the README's "Adding a node kind".
"""

from __future__ import annotations

from compiler.nodes.base import NodeKind, discover

KINDS: dict[str, NodeKind] = {
    k.type: k for k in discover(__name__, "KIND") if isinstance(k, NodeKind)
}
