"""Stage 9: write the output directory all at once, or report what is stale."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

_KEEP = {"__pycache__"}


def existing_files(out: Path) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    if not out.is_dir():
        return files
    for p in sorted(out.rglob("*")):
        if p.is_file() and not any(part in _KEEP for part in p.relative_to(out).parts):
            files[p.relative_to(out).as_posix()] = p.read_bytes()
    return files


def stale(out: Path, files: dict[str, str]) -> list[str]:
    """Paths under ``out`` that differ from ``files``, are missing, or should not exist."""
    have = existing_files(out)
    want = {k: v.encode("utf-8") for k, v in files.items()}
    return sorted([k for k in want if have.get(k) != want[k]] + [k for k in have if k not in want])


def write_all(out: Path, files: dict[str, str], changed: list[str] | None = None) -> list[str]:
    """Replace ``out`` with exactly ``files``; returns the paths that changed.

    The new tree is built beside ``out`` and swapped in with renames, so a reader sees the old
    tree or the new one, never a mix; unchanged trees are left alone (no mtime churn).
    ``changed``: the stale paths, when the caller has just found them.
    """
    if changed is None:
        changed = stale(out, files)
    if not changed:
        return []
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        for rel, text in sorted(files.items()):
            dest = tmp / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            with open(dest, "w", encoding="utf-8", newline="\n") as f:
                f.write(text)
        old = out.parent / f".{out.name}.old"
        if old.exists():
            shutil.rmtree(old)
        if out.exists():
            os.rename(out, old)
        os.rename(tmp, out)
        if old.exists():
            shutil.rmtree(old)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return changed
