"""Stage 4: resolve ``connections`` into an execution tree.

Checks: connections from unknown nodes, dangling targets, cycles, several entry nodes,
nodes reached from several places (fan-in), branches a node does not produce, unreachable
nodes. The result orders each node's successors per output branch: ``main[0]`` (for a
condition: true) and ``main[1]`` (false).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from compiler import messages
from compiler.diagnostics import Diagnostics, Span
from compiler.load import JArray, JNumber, JObject, JString
from compiler.model import Workflow
from compiler.suggest import did_you_mean, or_else


@dataclass
class Graph:
    root: str | None
    # node id -> branches, each an ordered list of target node ids
    outputs: dict[str, list[list[str]]] = field(default_factory=dict)
    parent: dict[str, str] = field(default_factory=dict)
    reachable: list[str] = field(default_factory=list)  # in execution order (pre-order)
    # Each reached node's interval in a depth-first walk of the tree of parents: a node is
    # upstream of another when its interval holds the other's (one comparison, any depth).
    _enter: dict[str, int] = field(default_factory=dict)
    _leave: dict[str, int] = field(default_factory=dict)

    def is_upstream(self, a: str, b: str) -> bool:
        """Whether ``a`` always runs before ``b`` (is one of its ancestors)."""
        if not self._enter and self.parent:
            self._number()
        if a == b or a not in self._enter or b not in self._enter:
            return False
        return self._enter[a] < self._enter[b] and self._leave[b] <= self._leave[a]

    def _number(self) -> None:
        children: dict[str, list[str]] = {}
        for child, parent in self.parent.items():
            children.setdefault(parent, []).append(child)
        tops = [n for n in {*self.parent.values(), *self.parent} if n not in self.parent]
        clock = 0
        for top in sorted(tops):
            stack: list[tuple[str, bool]] = [(top, False)]
            while stack:
                n, done = stack.pop()
                clock += 1
                if done:
                    self._leave[n] = clock
                    continue
                self._enter[n] = clock
                stack.append((n, True))
                stack.extend((c, False) for c in children.get(n, ()))


def build_graph(wf: Workflow, diags: Diagnostics) -> Graph:
    ids = [n.id for n in wf.nodes]
    known = set(ids)
    graph = Graph(root=None)
    incoming: dict[str, list[tuple[str, Span]]] = {i: [] for i in ids}
    if not wf.nodes:
        diags.add(
            messages.WORKFLOW_EMPTY.format(wf.id),
            wf.span,
            hint=messages.HINT__ADD_AT_LEAST_ONE,
        )
        return graph
    for src_key, body in wf.connections.entries:
        src = src_key.value
        if src not in known:
            s = did_you_mean(src, ids)
            diags.add(
                messages.CONNECTION_FROM_UNKNOWN_NODE.format(src),
                src_key.span,
                node_id=src,
                hint=(or_else(s, messages.HINT__NODE_IDS.format(", ".join(ids)))),
            )
            continue
        node = wf.node(src)
        assert node is not None
        main = body.get("main") if isinstance(body, JObject) else None
        if not isinstance(main, JArray):
            continue
        branches: list[list[str]] = []
        max_branches = len(node.kind.outputs) if node.kind is not None else 1
        for bi, branch in enumerate(main.items):
            targets: list[str] = []
            if not isinstance(branch, JArray):
                continue
            if bi >= max_branches and branch.items:
                what = (
                    messages.HINT__A_CONDITION_HAS_TWO_OUTPUTS
                    if max_branches == 2
                    else messages.HINT__HAS_ONE_OUTPUT_MAIN.format(node.type or "this node")
                )
                diags.add(
                    messages.OUTPUT_NOT_PRODUCED.format(src, bi),
                    branch.span,
                    node_id=src,
                    hint=what,
                )
                continue
            for conn in branch.items:
                if not isinstance(conn, JObject):
                    continue
                target_v = conn.get("node")
                assert isinstance(target_v, JString)
                target = target_v.value
                if target not in known:
                    s = did_you_mean(target, ids)
                    diags.add(
                        messages.CONNECTION_TO_UNKNOWN_NODE.format(src, target),
                        target_v.span,
                        node_id=src,
                        hint=(or_else(s, messages.HINT__CONNECT_TO_ONE_OF.format(", ".join(ids)))),
                    )
                    continue
                index_v = conn.get("index")
                if isinstance(index_v, JNumber) and index_v.value != 0:
                    diags.add(
                        messages.INPUT_INDEX_NOT_ZERO.format(target, index_v.value),
                        index_v.span,
                        node_id=src,
                        hint=messages.HINT__USE_INDEX_0,
                    )
                if target in targets:
                    continue
                targets.append(target)
                incoming[target].append((src, target_v.span))
            branches.append(targets)
        graph.outputs[src] = branches

    # Cycles (reported once per cycle, at the edge that closes it).
    color: dict[str, int] = {i: 0 for i in ids}
    cyclic: set[str] = set()

    def successors(n: str) -> Iterator[str]:
        return (t for branch in graph.outputs.get(n, []) for t in branch)

    def visit(start: str) -> None:
        """Depth-first, with an explicit stack: a long chain costs no recursion."""
        path, pending = [start], [successors(start)]
        color[start] = 1
        while pending:
            n = path[-1]
            t = next(pending[-1], None)
            if t is None:
                pending.pop()
                path.pop()
                color[n] = 2
            elif color[t] == 1:
                cycle = [*path[path.index(t) :], t]
                cyclic.update(cycle)
                span = next(sp for s, sp in incoming[t] if s == n)
                diags.add(
                    messages.CONNECTIONS_FORM_CYCLE.format(" -> ".join(cycle)),
                    span,
                    node_id=n,
                    hint=messages.HINT__REMOVE_THE_CONNECTION_FROM.format(n, t),
                )
            elif color[t] == 0:
                color[t] = 1
                path.append(t)
                pending.append(successors(t))

    for i in ids:
        if color[i] == 0:
            visit(i)

    roots = [i for i in ids if not incoming[i]]
    if not roots:
        if not cyclic:
            diags.add(
                messages.NO_ENTRY_NODE,
                wf.connections.span,
                hint=messages.HINT__THE_FIRST_NODE_MUST,
            )
        return graph
    graph.root = roots[0]
    if len(roots) > 1:
        for extra in roots[1:]:
            node = wf.node(extra)
            assert node is not None
            diags.add(
                messages.SECOND_ENTRY_NODE.format(extra, roots[0]),
                node.id_span,
                node_id=extra,
                hint=messages.HINT__CONNECT_FROM_THE_NODE.format(extra),
            )
    for target, sources in incoming.items():
        if len(sources) > 1 and target not in cyclic:
            names = ", ".join(f"`{s}`" for s, _ in sources)
            diags.add(
                messages.NODE_REACHED_TWICE.format(target, names),
                sources[1][1],
                node_id=sources[1][0],
                hint=messages.HINT__A_NODE_RUNS_AFTER,
            )
        elif sources:
            graph.parent[target] = sources[0][0]

    # Reachability and execution order (pre-order walk from the root).
    seen: set[str] = set()

    stack = [graph.root]
    while stack:
        n = stack.pop()
        if n in seen:
            continue
        seen.add(n)
        graph.reachable.append(n)
        stack.extend(reversed(list(successors(n))))
    for i in ids:
        if i not in seen and i not in roots[1:]:
            node = wf.node(i)
            assert node is not None
            diags.add(
                messages.NODE_NEVER_RUNS.format(i, graph.root),
                node.id_span,
                node_id=i,
                hint=messages.HINT__CONNECT_IT_FROM_A.format(graph.root),
            )
    return graph
