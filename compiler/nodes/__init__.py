"""The registry of node kinds: every module of this package that defines ``KIND``.

Everything else that depends on the set of kinds (parsing in the model stage, branch arity
in the graph, the explanation of ``unknown-node-type``, the README's table) reads it from
``KINDS``. Adding a kind is adding its module; see the README's "Adding a node kind".
``KINDS`` is built on first use, so a kind's module may import any stage of the compiler.
"""

from __future__ import annotations

import functools

from compiler.nodes.base import NodeKind, discover


@functools.cache
def _kinds() -> dict[str, NodeKind]:
    return {k.type: k for k in discover(__name__, "KIND", NodeKind)}


def __getattr__(name: str) -> object:
    if name == "KINDS":
        return _kinds()
    raise AttributeError(name)


KINDS: dict[str, NodeKind]
