"""The actions of ``metabuilder.action``: every module of this package that defines ``ACTION``.

A module defines ``ACTION``: its name, its parameters and a parser returning a
:class:`~compiler.nodes.base.NodeSpec`, so an action is lowered, documented and checked like
any node kind.
"""

from __future__ import annotations

import functools

from compiler.nodes.base import Variant, variants

Action = Variant


@functools.cache
def _actions() -> dict[str, Variant]:
    return variants(__name__, "ACTION")


def __getattr__(name: str) -> object:
    if name == "ACTIONS":  # built on first use, once every stage has loaded
        return _actions()
    raise AttributeError(name)


ACTIONS: dict[str, Variant]
