"""A 10,000-node workflow (a validate node, then 9,999 chained log actions): the compile's
wall time and peak memory, here and, with ``--baseline DIR``, in another checkout of the
project (for instance ``git worktree add /tmp/base 8c883a9``), in the same run.

Run: ``.venv/bin/python bench/large_workflow_bench.py [--nodes 10000] [--baseline DIR]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.test_limits import chain  # noqa: E402

# Peak RSS of the compile, measured in its own process (ru_maxrss of the child, in KiB).
_MEASURE = """
import resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[2:], cwd=sys.argv[1], capture_output=True, text=True)
took = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
codes = sorted({line.split("[", 1)[1].split("]", 1)[0] for line in done.stdout.splitlines()
                + done.stderr.splitlines() if "error[" in line})
print(f"{took:.2f} {peak} {done.returncode} {','.join(codes) or '-'}")
"""


def measure(project: Path, python: str, src: Path, out: Path) -> str:
    cmd = [python, "-c", _MEASURE, str(project), python, "-m", "compiler", "compile", str(src)]
    cmd += ["--out", str(out)]
    env = {**os.environ, "PYTHONPATH": str(project)}
    run = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
    took, peak, code, errors = run.stdout.split()
    outcome = "compiled" if code == "0" else f"refused ({errors})"
    return f"{float(took):5.1f} s, peak {int(peak) / 1024:4.0f} MiB: {outcome}"


def main(n: int, baseline: Path | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src" / "large"
        src.mkdir(parents=True)
        entities = (ROOT / "workflows" / "stream_cast" / "entities.json").read_text()
        (src / "entities.json").write_text(entities)
        (src / "large.json").write_text(json.dumps(chain(n)))
        size = (src / "large.json").stat().st_size / 2**20
        print(f"A {n:,}-node workflow ({size:.1f} MiB of JSON; goal: memory proportional to it)")
        print(f"  this tree: {measure(ROOT, sys.executable, src.parent, Path(tmp) / 'a')}")
        if baseline is not None:
            where = measure(baseline, sys.executable, src.parent, Path(tmp) / "b")
            print(f"  baseline ({baseline}): {where}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=10_000)
    parser.add_argument("--baseline", type=Path)
    args = parser.parse_args()
    main(args.nodes, args.baseline)
