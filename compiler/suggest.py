"""Near-miss suggestions for misspelled names (Elm and rustc style)."""

from __future__ import annotations

from collections.abc import Iterable

from compiler import messages


def edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance: insertions, deletions, substitutions, swaps."""
    if a == b:
        return 0
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """The closest candidate within a distance that scales with the name's length."""
    best: tuple[int, str] | None = None
    limit = 1 if len(name) <= 3 else 2 if len(name) <= 8 else 3
    for c in candidates:
        d = edit_distance(name.lower(), c.lower())
        if d <= limit and (best is None or (d, c) < best):
            best = (d, c)
    return best[1] if best else None


def or_else(suggestion: str | None, otherwise: str) -> str:
    """The hint for a near miss: "did you mean `x`?" when there is one, else ``otherwise``."""
    return messages.HINT__DID_YOU_MEAN_NAME.format(suggestion) if suggestion else otherwise
