"""``metabuilder.action``: one of the actions under ``compiler/nodes/actions/``, chosen by
the ``action`` parameter."""

from __future__ import annotations

from compiler.nodes.actions import ACTIONS
from compiler.nodes.base import NodeKind, NodeSpec, ParamDoc, ParamReader


def parse(r: ParamReader) -> NodeSpec | None:
    name = r.choice("action", tuple(ACTIONS))
    if name is None:
        return None
    action = ACTIONS[name[0]]
    r.unknown_keys(r.params, ("action", *(p.name for p in action.parameters)), "parameters")
    return action.parse(r)


KIND = NodeKind(
    type="metabuilder.action",
    versions=(1,),
    summary="runs one of the actions below",
    parameters=(
        ParamDoc("action", True, "one of " + ", ".join(ACTIONS)),
        *{p.name: p for a in ACTIONS.values() for p in a.parameters}.values(),
    ),
    parse=parse,
)
