"""Paths under the storage root (``STORAGE_ROOT``): the only tree media and file operations
may touch. A path outside it, or leading out of it through a symbolic link, is refused."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from runtime import js
from runtime.errors import ValidationFailed

if TYPE_CHECKING:
    from runtime.execution import Execution


def _outside(path: str) -> ValidationFailed:
    shown = path if len(path) <= 200 else path[:199] + "…"
    return ValidationFailed(f"The path {shown!r} is outside the storage root", "PATH_NOT_ALLOWED")


def confined(root: str, value: object) -> Path:
    """``value`` (relative to the root, or absolute inside it) as an absolute path whose
    parent directories, symbolic links resolved, stay under the root."""
    text = js.to_string(value)
    if not text or "\x00" in text:
        raise _outside(text)
    base = os.path.realpath(root)
    inside = text.startswith(base + os.sep)  # already absolute under the root
    joined = os.path.normpath(text if inside else os.path.join(base, text.lstrip("/")))
    if joined != base and not joined.startswith(base + os.sep):
        raise _outside(text)
    parent = os.path.realpath(os.path.dirname(joined))
    if parent != base and not parent.startswith(base + os.sep):
        raise _outside(text)  # a directory on the way is a link out of the root
    return Path(parent) / os.path.basename(joined)


def readable(root: str, value: object) -> Path:
    """A file to read: the path itself, resolved, must stay under the root."""
    path = confined(root, value)
    real = os.path.realpath(path)
    base = os.path.realpath(root)
    if not real.startswith(base + os.sep):
        raise _outside(js.to_string(value))
    return Path(real)


def check_paths(ex: Execution, paths: object) -> list[str]:
    """The paths of a ``delete_recursive``, checked before anything is queued."""
    items = paths if isinstance(paths, list) else [paths]
    root = ex.effects.config.storage_root
    return [str(confined(root, p)) for p in items]


def delete_paths(root: str, paths: list[str]) -> int:
    """Delete each path (a directory with everything below it); symbolic links are removed,
    never followed; missing paths are skipped. The number of paths that existed."""
    deleted = 0
    for p in paths:
        path = confined(root, p)  # checked again: the tree may have changed since
        try:
            mode = os.lstat(path).st_mode  # the link itself, never what it points at
        except FileNotFoundError:
            continue
        if stat.S_ISDIR(mode):
            shutil.rmtree(path)  # rmtree removes links inside, it does not descend into them
        else:
            os.unlink(path)
        deleted += 1
    return deleted
