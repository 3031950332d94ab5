"""Stage 4: resolve ``connections`` into an execution tree.

Checks: connections from unknown nodes, dangling targets, cycles, several entry nodes,
nodes reached from several places (fan-in), branches a node does not produce, unreachable
nodes. The result orders each node's successors per output branch: ``main[0]`` (for a
condition: true) and ``main[1]`` (false).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from compiler import codes
from compiler.diagnostics import Diagnostics, Span
from compiler.load import JArray, JNumber, JObject, JString
from compiler.model import Workflow
from compiler.suggest import did_you_mean


@dataclass
class Graph:
    root: str | None
    # node id -> branches, each an ordered list of target node ids
    outputs: dict[str, list[list[str]]] = field(default_factory=dict)
    parent: dict[str, str] = field(default_factory=dict)
    reachable: list[str] = field(default_factory=list)  # in execution order (pre-order)

    def upstream(self, node_id: str) -> list[str]:
        """Nodes that always run before ``node_id`` (its ancestors), nearest last."""
        chain: list[str] = []
        cur = self.parent.get(node_id)
        while cur is not None:
            chain.append(cur)
            cur = self.parent.get(cur)
        return list(reversed(chain))

    def branch_of(self, node_id: str) -> list[tuple[str, int]]:
        """(ancestor, branch index) pairs on the path from the root to ``node_id``."""
        path: list[tuple[str, int]] = []
        cur = node_id
        while cur in self.parent:
            p = self.parent[cur]
            for i, targets in enumerate(self.outputs.get(p, [])):
                if cur in targets:
                    path.append((p, i))
            cur = p
        return list(reversed(path))


def build_graph(wf: Workflow, diags: Diagnostics) -> Graph:
    ids = [n.id for n in wf.nodes]
    known = set(ids)
    graph = Graph(root=None)
    incoming: dict[str, list[tuple[str, Span]]] = {i: [] for i in ids}
    if not wf.nodes:
        diags.add(
            codes.NO_NODES,
            f"workflow `{wf.id}` has no nodes",
            wf.span,
            hint="add at least one node to `nodes`",
        )
        return graph
    for src_key, body in wf.connections.entries:
        src = src_key.value
        if src not in known:
            s = did_you_mean(src, ids)
            diags.add(
                codes.UNKNOWN_CONNECTION_SOURCE,
                f"connections names `{src}`, which is not a node",
                src_key.span,
                node_id=src,
                hint=f"did you mean `{s}`?" if s else "node ids: " + ", ".join(ids),
            )
            continue
        node = wf.node(src)
        assert node is not None
        main = body.get("main") if isinstance(body, JObject) else None
        if not isinstance(main, JArray):
            continue
        branches: list[list[str]] = []
        max_branches = 2 if node.type == "metabuilder.condition" else 1
        for bi, branch in enumerate(main.items):
            targets: list[str] = []
            if not isinstance(branch, JArray):
                continue
            if bi >= max_branches and branch.items:
                what = (
                    "a condition has two outputs: main[0] (true) and main[1] (false)"
                    if max_branches == 2
                    else f"{node.type or 'this node'} has one output, main[0]"
                )
                diags.add(
                    codes.INVALID_BRANCH,
                    f"node `{src}` has no output main[{bi}]",
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
                        codes.DANGLING_CONNECTION,
                        f"node `{src}` connects to `{target}`, which does not exist",
                        target_v.span,
                        node_id=src,
                        hint=(
                            f"did you mean `{s}`?" if s else "connect to one of: " + ", ".join(ids)
                        ),
                    )
                    continue
                index_v = conn.get("index")
                if isinstance(index_v, JNumber) and index_v.value != 0:
                    diags.add(
                        codes.INVALID_BRANCH,
                        f"node `{target}` has one input; index {index_v.value} does not exist",
                        index_v.span,
                        node_id=src,
                        hint='use `"index": 0`',
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

    def visit(n: str, stack: list[str]) -> None:
        color[n] = 1
        stack.append(n)
        for branch in graph.outputs.get(n, []):
            for t in branch:
                if color[t] == 1:
                    cycle = [*stack[stack.index(t) :], t]
                    cyclic.update(cycle)
                    span = next(sp for s, sp in incoming[t] if s == n)
                    diags.add(
                        codes.CYCLE,
                        "connections form a cycle: " + " -> ".join(cycle),
                        span,
                        node_id=n,
                        hint=f"remove the connection from `{n}` to `{t}`; workflows run top to bottom once",
                    )
                elif color[t] == 0:
                    visit(t, stack)
        stack.pop()
        color[n] = 2

    for i in ids:
        if color[i] == 0:
            visit(i, [])

    roots = [i for i in ids if not incoming[i]]
    if not roots:
        if not cyclic:
            diags.add(
                codes.CYCLE,
                "every node has an incoming connection, so none can start the workflow",
                wf.connections.span,
                hint="the first node must not be the target of a connection",
            )
        return graph
    graph.root = roots[0]
    if len(roots) > 1:
        for extra in roots[1:]:
            node = wf.node(extra)
            assert node is not None
            diags.add(
                codes.SEVERAL_ROOTS,
                f"node `{extra}` has no incoming connection, but `{roots[0]}` already starts the workflow",
                node.id_span,
                node_id=extra,
                hint=f"connect `{extra}` from the node that should run before it, or delete it",
            )
    for target, sources in incoming.items():
        if len(sources) > 1 and target not in cyclic:
            names = ", ".join(f"`{s}`" for s, _ in sources)
            diags.add(
                codes.FAN_IN,
                f"node `{target}` is reached from several nodes ({names})",
                sources[1][1],
                node_id=sources[1][0],
                hint="a node runs after exactly one other node; duplicate the node for each path",
            )
        elif sources:
            graph.parent[target] = sources[0][0]

    # Reachability and execution order (pre-order walk from the root).
    seen: set[str] = set()

    def walk(n: str) -> None:
        if n in seen:
            return
        seen.add(n)
        graph.reachable.append(n)
        for branch in graph.outputs.get(n, []):
            for t in branch:
                walk(t)

    walk(graph.root)
    for i in ids:
        if i not in seen and i not in roots[1:]:
            node = wf.node(i)
            assert node is not None
            diags.add(
                codes.UNREACHABLE_NODE,
                f"node `{i}` can never run: no path leads to it from `{graph.root}`",
                node.id_span,
                node_id=i,
                hint=f"connect it from a node reachable from `{graph.root}`, or delete it",
            )
    return graph
