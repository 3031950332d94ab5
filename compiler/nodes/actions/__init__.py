"""The actions of ``metabuilder.action``, one module each; ``ACTIONS`` lists them by name.

A module defines ``ACTION``: its name, its parameters and a parser returning a
:class:`~compiler.nodes.base.NodeSpec`, so an action is lowered, documented and checked like
any node kind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from compiler.nodes.base import NodeSpec, ParamDoc, ParamReader


@dataclass(frozen=True)
class Action:
    name: str
    summary: str
    parameters: tuple[ParamDoc, ...]
    parse: Callable[[ParamReader], NodeSpec | None]


def _actions() -> dict[str, Action]:
    from compiler.nodes.actions import emit_event, http_response, log, sse_stream

    return {m.ACTION.name: m.ACTION for m in (http_response, sse_stream, emit_event, log)}


ACTIONS: dict[str, Action] = _actions()
