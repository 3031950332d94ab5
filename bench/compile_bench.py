"""Compile times: a cold compile of the workflows, a no-change recompile, 500 variations."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "compiler", *args], cwd=ROOT, check=True, capture_output=True
    )
    return time.perf_counter() - start


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        cold = timed(["compile", "workflows", "--out", str(out)])
        warm = timed(["compile", "workflows", "--out", str(out)])
        src = Path(tmp) / "many" / "stream_cast"
        src.mkdir(parents=True)
        shutil.copy(ROOT / "workflows/stream_cast/entities.json", src / "entities.json")
        names = ["subscribe", "unsubscribe", "scene_transition", "viewer_count"]
        for i in range(500):
            base = json.loads((ROOT / f"workflows/stream_cast/{names[i % 4]}.json").read_text())
            base["id"] = f"{base['id']}_{i}"
            base["meta"]["triggers"] = [
                t.replace("/stream_cast/", f"/stream_cast/v{i}/") for t in base["meta"]["triggers"]
            ]
            (src / f"{names[i % 4]}_{i}.json").write_text(json.dumps(base))
        many = timed(["compile", str(src.parent), "--out", str(Path(tmp) / "out500")])
    print(f"cold compile of 4 workflows:   {cold:6.2f} s (target < 2 s)")
    print(f"no-change recompile:           {warm:6.2f} s (target < 1 s)")
    print(f"compile of 500 variations:     {many:6.2f} s (target < 30 s)")


if __name__ == "__main__":
    main()
