"""Stages 5-7: bind expressions, check the workflow, lower it into a plan, run the passes.

- :mod:`compiler.plan.binding`: parse ``{{ }}`` strings once, infer ``$json``, translate.
- :mod:`compiler.plan.tenancy`: the one tenant check over every database operation.
- :mod:`compiler.plan.lower`: walk the graph; each node kind lowers itself.
- :mod:`compiler.plan.passes`: rewrites that save round trips (row reuse, lookup fusion).
"""

from __future__ import annotations

from compiler import messages
from compiler.diagnostics import Diagnostics
from compiler.graph import Graph
from compiler.ir import Effect, Plan, ScopeCheck, Stmt, walk
from compiler.load import JString
from compiler.model import Entity, Workflow
from compiler.plan.binding import Binder
from compiler.plan.guards import check_guards
from compiler.plan.lower import Lowering
from compiler.plan.passes import fuse_lookups, place_effects, reuse_rows
from compiler.plan.tenancy import check_tenancy


def plan_workflow(
    wf: Workflow, graph: Graph, entities: dict[str, Entity], diags: Diagnostics
) -> Plan | None:
    from compiler.nodes.condition import ConditionSpec
    from compiler.nodes.validate import ValidateSpec

    every = [n for n in (wf.node(i) for i in graph.reachable) if n is not None]
    if graph.root is None:
        return None
    # A node whose parameters failed to parse is left out, and the others are still
    # checked (their real errors reported; reads of its output stay silent): the plan of
    # a workflow with such a node is never emitted.
    nodes = [n for n in every if n.spec is not None]
    broken = len(nodes) < len(every)
    bind = Binder(wf, graph, entities, diags)
    bind.first_pass(nodes)
    check_guards(nodes, graph, bind, diags)
    check_tenancy(nodes, bind, diags)
    # `${TENANT_ID}` is how MetaBuilder's own workflows say "the context tenant".
    upstream = isinstance(wf.tenant_id, JString) and wf.tenant_id.value == "${TENANT_ID}"
    if wf.tenant_id is not None and not upstream and not bind.is_context_tenant(wf.tenant_id):
        diags.add(
            messages.WORKFLOW_TENANT_NOT_CONTEXT.format(),
            wf.tenant_id.span,
            hint=messages.HINT__WRITE_TENANTID_CONTEXT_TENANTID.format(),
        )
    lw = Lowering(wf, graph, entities, diags, bind)
    body: list[Stmt] = []
    if wf.permissions_required:
        # Checked after the first condition (so a too-low level answers AUTH_INSUFFICIENT_LEVEL
        # first, as the spec shows), else after the user is validated, else at the start.
        anchor = next((n for n in nodes if isinstance(n.spec, ConditionSpec)), None) or next(
            (n for n in nodes if isinstance(n.spec, ValidateSpec) and n.spec.on_user(lw)), None
        )
        lw.scope_anchor = anchor.id if anchor else None
        if anchor is None:
            body.append(ScopeCheck(nodes[0], wf.permissions_required, binds_user=True))
    body += lw.chain(graph.root)
    for name, (_, span) in wf.inputs.items():
        if name not in bind.json_fields:
            diags.add(
                messages.INPUT_NEVER_READ.format(name),
                span,
                hint=(
                    messages.HINT__REMOVE_IT_OR_READ.format(name)
                    if name.isidentifier()
                    else messages.HINT__META_INPUTS_LISTS_INPUT
                ),
            )
    if broken:
        return None
    body = reuse_rows(fuse_lookups(body))
    body, _ = place_effects(body)
    for s in walk(body):
        if isinstance(s, Effect) and s.outside and not s.detach:
            diags.add(
                messages.EFFECT_IN_TRANSACTION.format(s.node.id),
                s.node.id_span,
                node_id=s.node.id,
                hint=messages.HINT__MOVE_EFFECT_BEFORE_WRITES,
            )
    return Plan(
        wf, graph, bind.inputs(), body, bind.user_bound_by is not None, lw.records, lw.constants
    )
