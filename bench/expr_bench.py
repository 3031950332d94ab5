"""Translated spec expressions against equivalent hand-written Python, in the same run."""

from __future__ import annotations

import ast
import math
import sys
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from compiler.expressions.parser import parse_expression
from compiler.expressions.translate import Scope, TExpr, Translator
from compiler.expressions.types import CONTEXT, STR, USER, Field, Record
from compiler.names import IMPORTS, imported

CHANNEL = Record("StreamChannel", "Channel", (Field("id", STR), Field("startedAt", STR)))
SCOPE = Scope(
    json=TExpr(ast.Name("json", ast.Load()), Record("Input", "$json", (Field("channelId", STR),))),
    context=TExpr(ast.Name("ctx", ast.Load()), CONTEXT),
    steps={},
    narrowed={("$context", "user"): TExpr(ast.Name("user", ast.Load()), USER)},
)
SPEC = {
    "$context.user.level >= 2 && $context.tenantId": 'user["level"] >= 2 and ctx["tenantId"]',
    "'stream:' + $json.channelId": '"stream:" + json["channelId"]',
    "new Date().toISOString()": 'datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")',
    "{ subscriptionId: $json.channelId, userId: $context.user.id }": '{"subscriptionId": json["channelId"], "userId": user["id"]}',
}
ENV = {
    # What a generated module imports (compiler.names), as translated code finds it there.
    **imported(IMPORTS),
    "json": {"channelId": "c-1"},
    "ctx": {"tenantId": "acme"},
    "user": {"id": "u1", "level": 2.0, "name": "Ada", "email": "", "roles": [], "scopes": []},
}


def main() -> None:
    print(f"{'expression':60} {'translated':>12} {'hand':>10} {'ratio':>6}  helpers")
    worst = 0.0
    for expr, hand in SPEC.items():
        tr = Translator(SCOPE)
        code = ast.unparse(tr.translate(parse_expression(expr)).node)
        n = 200_000
        gen_timer = timeit.Timer(code, globals=ENV)
        hand_timer = timeit.Timer(hand, globals=ENV)
        t_gen = t_hand = math.inf
        for _ in range(7):  # alternated, so a slower spell of the machine weighs on both
            t_gen = min(t_gen, gen_timer.timeit(n) / n * 1e9)
            t_hand = min(t_hand, hand_timer.timeit(n) / n * 1e9)
        ratio = t_gen / t_hand
        worst = max(worst, ratio)
        print(f"{expr[:60]:60} {t_gen:10.0f}ns {t_hand:8.0f}ns {ratio:6.2f}  {'js.' in code}")
    print(f"worst ratio {worst:.2f} (target <= 1.5)")


if __name__ == "__main__":
    main()
