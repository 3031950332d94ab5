"""Mail templates: ``templates/<name>.txt`` (the text part) and ``templates/<name>.html``
(the HTML part, autoescaped), beside the workflow file or in its package folder.

The compiler reads them, checks them with jinja2 (syntax, and that every variable a template
reads is given by the node's ``data``) and embeds them in the generated module, so a reviewer
sees a template change in the generated diff and the runtime reads no template files.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

import jinja2
import jinja2.meta
from jinja2.sandbox import SandboxedEnvironment

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
MAX_BYTES = 256 * 1024
_ENV = SandboxedEnvironment()


@dataclass(frozen=True)
class Found:
    name: str
    text: str | None
    html: str | None
    paths: tuple[str, ...]  # the files read, for messages


def folders(workflow_path: str) -> list[str]:
    here = os.path.dirname(workflow_path)
    return [os.path.join(here, "templates"), os.path.join(os.path.dirname(here), "templates")]


def _read(path: str) -> str | None:
    try:
        if os.path.getsize(path) > MAX_BYTES:
            return None
        with open(path, encoding="utf-8") as f:
            return f.read()
    except (OSError, UnicodeDecodeError):
        return None


def find(workflow_path: str, name: str) -> Found | None:
    """The template ``name`` (a plain file name: no path separators), or None."""
    if not NAME.match(name) or ".." in name:
        return None
    for folder in folders(workflow_path):
        text = _read(os.path.join(folder, name + ".txt"))
        html = _read(os.path.join(folder, name + ".html"))
        if text is not None or html is not None:
            paths = tuple(
                os.path.join(folder, name + ext)
                for ext, got in ((".txt", text), (".html", html))
                if got is not None
            )
            return Found(name, text, html, paths)
    return None


def every(workflow_path: str) -> list[Found]:
    """Every template beside the workflow, by name (for a template chosen at run time)."""
    names: set[str] = set()
    for folder in folders(workflow_path):
        try:
            entries = os.listdir(folder)
        except OSError:
            continue
        for entry in entries:
            stem, ext = os.path.splitext(entry)
            if ext in (".txt", ".html") and NAME.match(stem):
                names.add(stem)
    found = [find(workflow_path, n) for n in sorted(names)]
    return [f for f in found if f is not None]


def problems(found: Found, given: set[str] | None) -> list[tuple[str, str, str | None]]:
    """(file, problem, variable) for each part that does not parse or reads a variable
    ``given`` lacks (None: the data's keys are not known at compile time)."""
    out: list[tuple[str, str, str | None]] = []
    for path, source in zip(
        found.paths, (p for p in (found.text, found.html) if p is not None), strict=True
    ):
        try:
            tree = _ENV.parse(source)
        except jinja2.TemplateSyntaxError as err:
            out.append((path, f"line {err.lineno}: {err.message}", None))
            continue
        if given is not None:
            for var in sorted(jinja2.meta.find_undeclared_variables(tree) - given):
                out.append((path, "", var))
    return out


def constant(found: Found) -> dict[str, str | None]:
    return {"name": found.name, "text": found.text, "html": found.html}
