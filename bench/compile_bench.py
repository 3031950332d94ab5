"""Compile times, each next to its goal: the four spec workflows cold; 1,000 workflows (250
renamed copies of each spec workflow in one package) cold, again with nothing changed, and
again with one of them changed. Every compile is ``python -m compiler compile`` in its own
process with its own cache folder, as a build pipeline runs it.

Run: ``make bench`` or ``.venv/bin/python bench/compile_bench.py [--count 1000]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NAMES = ["subscribe", "unsubscribe", "scene_transition", "viewer_count"]


def timed(args: list[str], cache: Path) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "compiler", "compile", *args, "--cache-dir", str(cache)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - start


def copies(src: Path, count: int) -> None:
    src.mkdir(parents=True)
    shutil.copy(ROOT / "workflows/stream_cast/entities.json", src / "entities.json")
    for i in range(count):
        base = json.loads((ROOT / f"workflows/stream_cast/{NAMES[i % 4]}.json").read_text())
        base["id"] = f"{base['id']}_{i}"
        base["meta"]["triggers"] = [
            t.replace("/stream_cast/", f"/stream_cast/v{i}/") for t in base["meta"]["triggers"]
        ]
        (src / f"{NAMES[i % 4]}_{i}.json").write_text(json.dumps(base, indent=2))


def line(what: str, seconds: float, goal: float) -> str:
    verdict = "met" if seconds < goal else "NOT MET"
    return f"  {what:44} {seconds:6.2f} s   goal < {goal:g} s   {verdict}"


def main(count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        spec = timed(["workflows", "--out", str(base / "out4")], base / "cache4")
        src = base / "many" / "stream_cast"
        copies(src, count)
        args = [str(src.parent), "--out", str(base / "out")]
        cold = timed(args, base / "cache")
        warm = timed(args, base / "cache")
        changed = src / "subscribe_0.json"
        data = json.loads(changed.read_text())
        data["name"] += " (renamed)"
        changed.write_text(json.dumps(data, indent=2))
        one = timed(args, base / "cache")
    print(f"compile times on this machine ({os.cpu_count()} cores)")
    print(line("cold, the 4 spec workflows", spec, 2))
    print(line(f"cold, {count} workflows", cold, 15))
    print(line(f"again, {count} workflows, nothing changed", warm, 1))
    print(line(f"again, {count} workflows, one changed", one, 2))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=1000)
    main(parser.parse_args().count)
