"""Command line: ``python -m compiler compile|check|expr|explain``."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tomllib
from collections import Counter
from pathlib import Path

from compiler import codes
from compiler.cache import Cache
from compiler.diagnostics import Diagnostic, render_human, render_json
from compiler.pipeline import Result, compile_metabuilder, compile_project
from compiler.write import stale, write_all


def _print_diagnostics(res: Result, fmt: str, werror: bool, brief: bool = False) -> bool:
    """Print diagnostics; return True when the run failed. ``brief``: the output is what it
    was, so warnings the user has already seen are one summary line (errors are never brief)."""
    items = res.diagnostics.sorted()
    failed = res.diagnostics.has_errors or (werror and bool(items))
    if fmt == "json":
        print(render_json(items), file=sys.stderr)
    elif brief and not failed and items:
        counts = Counter(d.code.name for d in items)
        kinds = ", ".join(f"{c} ×{n}" if n > 1 else c for c, n in sorted(counts.items()))
        n = len(items)
        print(
            f"{n} warning{'s' if n != 1 else ''} ({kinds}), unchanged since the last compile; "
            "`-v` shows them",
            file=sys.stderr,
        )
    else:
        for d in items:
            print(render_human(_promote(d, werror), res.sources), file=sys.stderr)
            print(file=sys.stderr)
        n_err = len(res.diagnostics.errors())
        n_warn = len(res.diagnostics.warnings())
        if werror:
            n_err, n_warn = n_err + n_warn, 0
        if items:
            print(
                f"{n_err} error{'s' if n_err != 1 else ''}, {n_warn} warning{'s' if n_warn != 1 else ''}",
                file=sys.stderr,
            )
    return failed


def _promote(d: Diagnostic, werror: bool) -> Diagnostic:
    if werror and d.severity is codes.Severity.WARNING:
        return Diagnostic(
            codes.Code(d.code.name, codes.Severity.ERROR, d.code.summary),
            d.message,
            d.span,
            d.hint,
            d.node_id,
        )
    return d


CONFIG_TABLE = "workflow-compiler"


def _configure(args: argparse.Namespace) -> str | None:
    """Fill what the command line leaves out from ``[tool.workflow-compiler]`` in
    ``pyproject.toml`` (the current folder's): ``sources``, or ``metabuilder`` with
    ``overlay`` and ``packages``; ``out``; ``env``. Returns an error, or None."""
    path = Path("pyproject.toml")
    config: dict[str, object] = {}
    if path.is_file():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
            return f"{path}: {err}"
        tool = data.get("tool", {})
        table = tool.get(CONFIG_TABLE, {}) if isinstance(tool, dict) else {}
        if not isinstance(table, dict):
            return f"{path}: [tool.{CONFIG_TABLE}] must be a table"
        config = table
    known = {"sources", "metabuilder", "overlay", "packages", "out", "env"}
    unknown = sorted(set(config) - known)
    if unknown:
        return f"{path}: [tool.{CONFIG_TABLE}] has no key {', '.join(unknown)}; keys: " + (
            ", ".join(sorted(known))
        )
    lists: dict[str, list[str]] = {}
    for key in ("sources", "packages", "env"):
        v = config.get(key, [])
        if not (isinstance(v, list) and all(isinstance(x, str) for x in v)):
            return f"{path}: [tool.{CONFIG_TABLE}] {key} must be a list of strings"
        lists[key] = [str(x) for x in v]
    for key in ("metabuilder", "overlay", "out"):
        v = config.get(key)
        if v is not None and not isinstance(v, str):
            return f"{path}: [tool.{CONFIG_TABLE}] {key} must be a string"
    from_cli = bool(args.sources) or args.metabuilder is not None
    if not from_cli:
        if config.get("metabuilder") is not None:
            args.metabuilder = config["metabuilder"]
            args.overlay = args.overlay or config.get("overlay")
            args.package = args.package or lists["packages"]
        else:
            args.sources = lists["sources"]
    if args.out is None:
        args.out = config.get("out") or "generated"
    args.env = lists["env"]
    return None


def _compile(args: argparse.Namespace, check: bool) -> int:
    problem = _configure(args)
    if problem is not None:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    if args.metabuilder is not None:
        if args.sources:
            print("error: give workflow folders or --metabuilder ROOT, not both", file=sys.stderr)
            return 2
        root, overlays = Path(args.metabuilder), Path(args.overlay or "overlay")
        for what, path in (("--metabuilder", root / "packages"), ("--overlay", overlays)):
            if not path.is_dir():
                print(f"error: {what}: {path} is not a folder", file=sys.stderr)
                return 2
        have = {d.parent.name for d in (root / "packages").glob("*/workflow")}
        missing = sorted(set(args.package) - have)
        if missing:
            print(f"error: --package: no workflows for {', '.join(missing)}", file=sys.stderr)
            return 2
    elif args.overlay or args.package:
        print("error: --overlay and --package go with --metabuilder ROOT", file=sys.stderr)
        return 2
    sources = [Path(s) for s in args.sources] or [Path("workflows")]
    for s in sources if args.metabuilder is None else ():
        if not s.exists():
            print(f"error: {s} does not exist", file=sys.stderr)
            return 2
    cache = (
        Cache(None)
        if args.no_cache
        else Cache(Path(args.cache_dir)) if args.cache_dir else Cache.default()
    )
    try:
        res = (
            compile_project(sources, args.env, cache)
            if args.metabuilder is None
            else compile_metabuilder(root, overlays, args.package, args.env, cache)
        )
    except RecursionError:
        print("error[internal-error]: input nested too deeply", file=sys.stderr)
        return 1
    out = Path(args.out)
    if check and args.typecheck and not res.diagnostics.has_errors and out.is_dir():
        from compiler.typecheck import report, run_mypy

        report(run_mypy(out.resolve()), out.resolve(), res.summaries, res.diagnostics)
    bad = stale(out, res.files)
    if _print_diagnostics(res, args.format, args.werror, brief=not (args.verbose or bad)):
        return 1
    if check:
        if bad:
            for p in bad:
                print(f"{out / p}: stale", file=sys.stderr)
            print(
                f"{len(bad)} generated file(s) differ from the workflows; run `make compile`",
                file=sys.stderr,
            )
            return 1
        print(f"{out}: up to date ({len(res.files)} files)")
        return 0
    changed = write_all(out, res.files, bad)  # the paths found stale above
    print(
        f"compiled {len(res.summaries)} workflow(s) into {out}: "
        + (f"{len(changed)} file(s) changed" if changed else "no changes")
    )
    return 0


def _expr(args: argparse.Namespace) -> int:
    from compiler.expressions.evaluate import Translation, evaluate, run_line, translate_expression
    from compiler.expressions.parser import ExpressionError

    if args.jsonl:
        cache: dict[str, Translation | ExpressionError] = {}
        with contextlib.ExitStack() as stack:
            stream = (
                sys.stdin
                if args.jsonl == "-"
                else stack.enter_context(open(args.jsonl, encoding="utf-8"))
            )
            for raw in stream:
                if not raw.strip():
                    continue
                try:
                    line = json.loads(raw)
                except json.JSONDecodeError as err:
                    out: dict[str, object] = {"error": "InvalidInput", "message": str(err)}
                else:
                    out = (
                        run_line(line, cache)
                        if isinstance(line, dict)
                        else {
                            "error": "InvalidInput",
                            "message": "each line must be a JSON object",
                        }
                    )
                print(json.dumps(out, ensure_ascii=False))
        return 0
    if args.expression is None:
        print("error: give an EXPRESSION or --jsonl FILE", file=sys.stderr)
        return 2
    try:
        tr = translate_expression(args.expression)
    except ExpressionError as err:
        print(
            f"<expression>:1:{err.start + 1}: error[{err.code.name}]: " f"{err.message}",
            file=sys.stderr,
        )
        print(f"  | {args.expression}", file=sys.stderr)
        print(f"  | {' ' * err.start}{'^' * max(1, err.end - err.start)}", file=sys.stderr)
        if err.hint:
            print(f"  = help: {err.hint}", file=sys.stderr)
        return 1
    print(tr.source)
    if args.json is not None or args.context is not None or args.steps is not None:
        try:
            data = json.loads(args.json) if args.json is not None else {}
            ctx = json.loads(args.context) if args.context is not None else {"tenantId": ""}
            steps = json.loads(args.steps) if args.steps is not None else {}
        except json.JSONDecodeError as err:
            print(f"error: invalid JSON data: {err}", file=sys.stderr)
            return 2
        result = evaluate(tr, data, ctx, steps)
        if "value" in result:
            print(json.dumps(result["value"], ensure_ascii=False))
        elif "undefined" in result:
            print("undefined")
        else:
            print(f"{result['error']}", file=sys.stderr)
            return 1
    return 0


def _explain(args: argparse.Namespace) -> int:
    from compiler.explain import explain

    text = explain(args.code)
    if text is None:
        print(
            f"error: unknown code `{args.code}`; codes: "
            + ", ".join(c.name for c in codes.all_codes()),
            file=sys.stderr,
        )
        return 2
    print(text)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m compiler", description="Compile workflow JSON into Python."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name, help_ in (
        ("compile", "compile workflows into generated/"),
        ("check", "fail when generated/ is stale or the workflows have errors"),
    ):
        p = sub.add_parser(name, help=help_)
        p.add_argument(
            "sources",
            nargs="*",
            metavar="SRC",
            help="workflow folders or files (default workflows/)",
        )
        p.add_argument("--out", default=None, help="output folder (default generated/)")
        p.add_argument(
            "--metabuilder",
            metavar="ROOT",
            help="compile a MetaBuilder tree (packages/*/workflow, DBAL YAML) read unchanged",
        )
        p.add_argument(
            "--overlay",
            metavar="DIR",
            help="with --metabuilder: <package>.json files with routes and extra entities",
        )
        p.add_argument(
            "--package",
            action="append",
            default=[],
            metavar="NAME",
            help="with --metabuilder: compile only this package (repeatable)",
        )
        p.add_argument(
            "--format", choices=("human", "json"), default="human", help="diagnostics format"
        )
        p.add_argument(
            "--strict",
            "--werror",
            dest="werror",
            action="store_true",
            help="treat warnings as errors (fail on any)",
        )
        p.add_argument(
            "-v",
            "--verbose",
            action="store_true",
            help="show every warning, also when the output did not change",
        )
        p.add_argument(
            "--cache-dir",
            default=None,
            help="where per-workflow results are kept between runs (default .workflow-cache, "
            "or WORKFLOW_CACHE_DIR)",
        )
        p.add_argument(
            "--no-cache",
            action="store_true",
            help="compile every workflow again, reading and writing no cache",
        )
        if name == "check":
            p.add_argument(
                "--typecheck",
                action="store_true",
                help="also run mypy --strict over the output and trace errors to their nodes",
            )
    p = sub.add_parser("expr", help="translate an expression and evaluate it on sample data")
    p.add_argument("expression", nargs="?")
    p.add_argument("--json", help="the $json value, as JSON")
    p.add_argument("--context", help="the $context value, as JSON")
    p.add_argument("--steps", help="the $steps value, as JSON")
    p.add_argument(
        "--jsonl", metavar="FILE", help='read {"expr","json","context","steps"} lines ("-": stdin)'
    )
    p = sub.add_parser("explain", help="explain a diagnostic code")
    p.add_argument("code")
    args = parser.parse_args(argv)
    if args.command in ("compile", "check"):
        return _compile(args, args.command == "check")
    if args.command == "expr":
        return _expr(args)
    return _explain(args)


if __name__ == "__main__":
    sys.exit(main())
