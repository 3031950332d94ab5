"""The actions of ``metabuilder.action``: every module of this package that defines ``ACTION``.

A module defines ``ACTION``: its name, its parameters and a parser returning a
:class:`~compiler.nodes.base.NodeSpec`, so an action is lowered, documented and checked like
any node kind.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from compiler.nodes.base import NodeSpec, ParamDoc, ParamReader


@dataclass(frozen=True)
class Action:
    name: str
    summary: str
    parameters: tuple[ParamDoc, ...]
    parse: Callable[[ParamReader], NodeSpec | None]


@functools.cache
def _actions() -> dict[str, Action]:
    from compiler.nodes.base import discover

    return {a.name: a for a in discover(__name__, "ACTION", Action)}


def __getattr__(name: str) -> object:
    if name == "ACTIONS":  # built on first use, once every stage has loaded
        return _actions()
    raise AttributeError(name)


ACTIONS: dict[str, Action]
