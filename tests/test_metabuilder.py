"""MetaBuilder's own layout, read unchanged: ``--metabuilder ROOT --overlay DIR``.

``tests/cases/metabuilder/`` is a small tree of that shape: workflows with hyphenated file
names, a top-level ``version`` and ``"tenantId": "${TENANT_ID}"``, entities in DBAL YAML
(multi-document, every type, a field named ``from``, another dialect of upstream's tree
beside them), routes and extra entities from an overlay, one workflow ``internal``.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT
from tests.server import Server

TREE = ROOT / "tests" / "cases" / "metabuilder"


def compile_tree(tmp: Path, *extra: str, tree: Path = TREE) -> subprocess.CompletedProcess[str]:
    args = ["--metabuilder", str(tree / "root"), "--overlay", str(tree / "overlay")]
    args += ["--out", str(tmp / "generated"), *extra]
    return subprocess.run(
        [sys.executable, "-m", "compiler", "compile", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )


def copy_tree(tmp: Path) -> Path:
    tree = tmp / "tree"
    shutil.copytree(TREE, tree)
    return tree


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("mb")
    out = compile_tree(tmp)
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr
    return tmp


def test_the_tree_compiles_and_type_checks(compiled: Path) -> None:
    gen = compiled / "generated"
    modules = sorted(p.name for p in (gen / "library").glob("*.py"))
    assert modules == [
        "__init__.py",
        "add_book.py",
        "book_stats.py",
        "book_title.py",
        "entities.py",
        "get_book.py",
        "list_books.py",
        "nightly_count.py",
        "retire_books.py",
        "search_books.py",
    ]
    entities = (gen / "library" / "entities.py").read_text()
    # The entities its workflows use, not the whole registry (Loan and Shelf are unused).
    assert 'Book = TypedDict(\n    "Book",' in entities  # call form: a field is named `from`
    assert "Loan" not in entities and "Shelf" not in entities
    assert "tags JSONB" in entities and "published_at BIGINT" in entities
    assert '\\"from\\" TEXT' in entities  # a keyword field, a quoted column
    assert "subtitle TEXT" in entities  # added by the overlay
    internal = (gen / "library" / "book_title.py").read_text()
    assert "triggers=()," in internal  # not mounted
    # emit_event without a channel in an internal workflow: the event's data is its result
    assert 'return JsonResult(200, {"title":' in internal
    nightly = (gen / "library" / "nightly_count.py").read_text()
    assert 'triggers=(ScheduleTrigger(cron="0 2 * * *"),),' in nightly
    mypy = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "generated"],
        capture_output=True, text=True, cwd=compiled, env={"MYPYPATH": str(ROOT), "PATH": ""},
    )  # fmt: skip
    assert mypy.returncode == 0, mypy.stdout


async def test_the_compiled_tree_is_served(compiled: Path, tmp_path: Path) -> None:
    gen = str(compiled / "generated")
    srv = Server(tmp_path, serve_args=("--generated", gen))
    migrated = srv.cli("migrate", "--generated", gen)
    assert migrated.returncode == 0, migrated.stderr
    with sqlite3.connect(tmp_path / "app.db") as db:
        columns = {r[1]: r[2] for r in db.execute("PRAGMA table_info(book)")}
        assert columns["tags"] == "TEXT" and columns["created_at"] == "INTEGER"
        db.execute(
            'INSERT INTO book (id, tenant_id, title, pages, tags, "from") '
            "VALUES ('b1', 'acme', 'Dune', 412, '[\"sf\"]', 'Arrakis')"
        )
    srv.launch()
    try:
        token = srv.mint("acme", "ada", 1)
        other = srv.mint("globex", "bo", 1)
        async with httpx.AsyncClient(timeout=10) as client:
            url = f"{srv.base}/api/v1/acme/library/books"
            r = await client.get(f"{url}/b1", headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 200, r.text
            assert r.json() == {
                "title": "Dune",
                "tags": ["sf"],
                "genre": "fiction",  # the column's default
                "from": "Arrakis",
                "createdAt": None,
            }
            r = await client.get(
                f"{url}/b1?bookId=b2", headers={"Authorization": f"Bearer {token}"}
            )  # a GET's input is its query string, merged with the path like a body
            assert r.status_code == 400 and r.json()["field"] == "bookId", r.text
            r = await client.get(f"{url}/b1")
            assert r.status_code == 401 and r.json()["code"] == "AUTH_REQUIRED"
            r = await client.get(
                f"{srv.base}/api/v1/globex/library/books/b1",
                headers={"Authorization": f"Bearer {other}"},
            )
            assert r.status_code == 404 and r.json()["code"] == "BOOK_NOT_FOUND"
            body = {"title": "Solaris", "pages": 204, "tags": {"lang": "pl"}, "origin": "Lem"}
            r = await client.post(url, json=body, headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 201, r.text
            new_id = r.json()["id"]
            r = await client.post(
                url,
                json={"title": "x", "origin": "y"},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert r.status_code == 400 and r.json()["field"] == "pages"
            r = await client.post(
                url,
                json={**body, "title": "x" * 201},
                headers={"Authorization": f"Bearer {token}"},
            )  # the YAML's max_length, checked on write
            assert r.status_code == 400 and r.json()["rule"] == "maxLength", r.text
        with sqlite3.connect(tmp_path / "app.db") as db:
            row = db.execute(
                'SELECT tags, "from", genre, created_at FROM book WHERE id = ?', (new_id,)
            ).fetchone()
        tags, origin, genre, created = row
        assert json.loads(tags) == {"lang": "pl"} and origin == "Lem" and genre == "fiction"
        assert isinstance(created, int) and created > 1_700_000_000_000  # epoch milliseconds
    finally:
        srv.stop()
    assert "Traceback" not in srv.log(), srv.log()


def test_an_iso_string_into_epoch_milliseconds_is_an_error(tmp_path: Path) -> None:
    tree = copy_tree(tmp_path)
    path = tree / "root" / "packages" / "library" / "workflow" / "add-book.json"
    doc = json.loads(path.read_text())
    doc["nodes"][1]["parameters"]["data"]["publishedAt"] = "{{ new Date().toISOString() }}"
    path.write_text(json.dumps(doc, indent=2))
    out = compile_tree(tmp_path, tree=tree)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "add-book.json" in out.stderr and "publishedAt" in out.stderr, out.stderr
    assert not (tmp_path / "generated").exists()


def test_file_names_that_would_share_a_module(tmp_path: Path) -> None:
    tree = copy_tree(tmp_path)
    workflows = tree / "root" / "packages" / "library" / "workflow"
    shutil.copy(workflows / "get-book.json", workflows / "get_book.json")
    out = compile_tree(tmp_path, tree=tree)
    assert out.returncode == 1
    assert "error[invalid-name]: `get_book.json` and `get-book.json` would both become" in (
        out.stderr
    ), out.stderr


def test_an_entity_in_another_dialect_is_reported_where_it_is_used(tmp_path: Path) -> None:
    tree = copy_tree(tmp_path)
    path = tree / "root" / "packages" / "library" / "workflow" / "get-book.json"
    path.write_text(path.read_text().replace('"entity": "Book"', '"entity": "Video"'))
    out = compile_tree(tmp_path, tree=tree)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "video.yaml" in out.stderr and "unknown type `String`" in out.stderr, out.stderr


def test_usage_errors(tmp_path: Path) -> None:
    out = compile_tree(tmp_path, "--package", "nope")
    assert out.returncode == 2 and "--package: no workflows for nope" in out.stderr
    alone = subprocess.run(
        [sys.executable, "-m", "compiler", "compile", "--overlay", str(TREE / "overlay")],
        capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    assert alone.returncode == 2 and "go with --metabuilder" in alone.stderr


def test_a_cron_schedule_that_cannot_be_read(tmp_path: Path) -> None:
    tree = copy_tree(tmp_path)
    overlay = tree / "overlay" / "library.json"
    overlay.write_text(overlay.read_text().replace("SCHEDULED:0 2 * * *", "SCHEDULED:61 2 * * *"))
    out = compile_tree(tmp_path, tree=tree)
    assert out.returncode == 1
    assert "library.json" in out.stderr and "error[invalid-trigger]" in out.stderr, out.stderr
    assert "SCHEDULED:*/30 * * * *" in out.stderr  # the hint shows the cron form


def test_cron_times_are_read_in_the_workflows_timezone() -> None:
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from runtime.scheduler import next_fire

    berlin = ZoneInfo("Europe/Berlin")
    # 2 a.m. in Berlin is 01:00 UTC in winter and 00:00 UTC in summer.
    winter = next_fire("0 2 * * *", berlin, datetime(2026, 1, 10, 12, 0, tzinfo=UTC))
    assert winter.astimezone(UTC) == datetime(2026, 1, 11, 1, 0, tzinfo=UTC)
    summer = next_fire("0 2 * * *", berlin, datetime(2026, 7, 10, 12, 0, tzinfo=UTC))
    assert summer.astimezone(UTC) == datetime(2026, 7, 11, 0, 0, tzinfo=UTC)
    every = next_fire("*/30 * * * *", UTC, datetime(2026, 1, 1, 10, 7, tzinfo=UTC))
    assert every == datetime(2026, 1, 1, 10, 30, tzinfo=UTC)


def test_an_event_without_a_channel_outside_an_internal_workflow(tmp_path: Path) -> None:
    tree = copy_tree(tmp_path)
    overlay = tree / "overlay" / "library.json"
    overlay.write_text(
        overlay.read_text().replace(
            '"book-title": "internal"',
            '"book-title": "GET /api/v1/{tenant}/library/titles/{bookId}"',
        )
    )
    out = compile_tree(tmp_path, tree=tree)
    assert out.returncode == 1
    assert "book-title.json" in out.stderr and "needs the parameter `channel`" in out.stderr


async def test_lists_sorts_pages_aggregates_and_bulk_writes_over_http(
    compiled: Path, tmp_path: Path
) -> None:
    """list-books (a list read: `$gte` and `$in` filters, a sort key and direction from the
    query string, limit and offset from a transform, `.map` over the rows), book-stats (an
    aggregate per genre reduced and sorted in expressions) and retire-books (update_many by
    `$in`, delete_many by `$lt`), each scoped to the caller's tenant."""
    gen = str(compiled / "generated")
    srv = Server(
        tmp_path, serve_args=("--generated", gen), env_extra={"LIBRARY_NAME": "Alexandria"}
    )
    assert srv.cli("migrate", "--generated", gen).returncode == 0
    books = [
        ("b1", "acme", "Dune", 412, "fiction", 5),
        ("b2", "acme", "Cosmos", 365, "science", 4),
        ("b3", "acme", "Solaris", 204, "fiction", None),
        ("b4", "acme", "Brief", 90, "science", 3),
        ("g1", "globex", "Other", 999, "fiction", 1),
    ]
    with sqlite3.connect(tmp_path / "app.db") as db:
        for id_, tenant, title, pages, genre, rating in books:
            db.execute(
                "INSERT INTO book (id, tenant_id, title, pages, genre, rating, summary) "
                "VALUES (?, ?, ?, ?, ?, ?, '')",
                (id_, tenant, title, pages, genre, rating),
            )
    srv.launch()
    try:
        ada = {"Authorization": f"Bearer {srv.mint('acme', 'ada', 1)}"}
        admin = {"Authorization": f"Bearer {srv.mint('acme', 'root', 3)}"}
        base = f"{srv.base}/api/v1/acme/library"
        async with httpx.AsyncClient(timeout=10) as client:
            r = await client.get(f"{base}/books?sortBy=pages&sortOrder=desc&limit=2", headers=ada)
            assert r.status_code == 200, r.text
            body = r.json()
            assert [b["id"] for b in body["books"]] == ["b1", "b2"]  # globex's 999 pages unseen
            assert body["books"][0] == {
                "id": "b1",
                "title": "Dune",
                "url": "/books/b1",
                "long": True,
            }
            assert body["titles"] == "Dune, Cosmos" and body["total"] == 4 and body["hasMore"]
            assert body["library"] == "Alexandria"  # $env, allowed by the overlay
            r = await client.get(f"{base}/books?sortBy=pages&limit=2&page=2", headers=ada)
            assert r.status_code == 200, r.text
            assert [b["id"] for b in r.json()["books"]] == ["b2", "b1"] and not r.json()["hasMore"]
            r = await client.get(f"{base}/books?minPages=300", headers=ada)  # sorted by title
            assert [b["title"] for b in r.json()["books"]] == ["Cosmos", "Dune"]
            r = await client.get(f"{base}/books?sortBy=tenantId%3B%20DROP", headers=ada)
            assert r.status_code == 400 and r.json()["code"] == "VALIDATION_FAILED", r.text
            r = await client.get(f"{base}/books?minPages=many", headers=ada)
            assert r.json()["books"] == [], r.text  # as in JavaScript, no count is >= NaN
            r = await client.get(f"{base}/stats", headers=ada)
            assert r.status_code == 200, r.text
            assert r.json() == {
                "genres": [
                    {"genre": "fiction", "count": 2, "pages": 616, "rating": 5},
                    {"genre": "science", "count": 2, "pages": 455, "rating": 3.5},
                ],
                "totalBooks": 4,
                "biggest": "fiction",
            }
            r = await client.post(
                f"{base}/books/retire", json={"ids": ["b3", "b4", "g1"]}, headers=ada
            )
            assert r.status_code == 403, r.text  # level 3 only
            r = await client.post(
                f"{base}/books/retire", json={"ids": ["b3", "b4", "g1"], "purgeBelow": 100},
                headers=admin,
            )  # fmt: skip
            assert r.status_code == 200 and r.json() == {"retired": 2, "purged": 1}, r.text
            # A filter built in transforms: keys dropped when null, operators kept.
            r = await client.get(f"{base}/search?genre=science", headers=ada)
            assert r.json() == {"titles": ["Cosmos"], "count": 1}, r.text  # b4 was purged
            r = await client.get(f"{base}/search?minPages=300", headers=ada)
            assert r.json() == {"titles": ["Cosmos", "Dune"], "count": 2}, r.text
            r = await client.get(f"{base}/search?tenant=globex", headers=ada)
            assert r.status_code == 400 and r.json()["field"] == "tenantId", r.text
            r = await client.post(f"{base}/books/retire", json={"ids": "b1"}, headers=admin)
            assert r.status_code == 400 and r.json()["field"] == "id", r.text
        with sqlite3.connect(tmp_path / "app.db") as db:
            rows = db.execute("SELECT id, available FROM book ORDER BY id").fetchall()
        assert rows == [("b1", 1), ("b2", 1), ("b3", 0), ("g1", 1)]  # b4 purged; g1 globex's
    finally:
        srv.stop()
    assert "Traceback" not in srv.log(), srv.log()


def test_env_names_outside_the_allow_list_are_refused(tmp_path: Path) -> None:
    tree = copy_tree(tmp_path)
    path = tree / "root" / "packages" / "library" / "workflow" / "list-books.json"
    path.write_text(path.read_text().replace("$env.LIBRARY_NAME", "$env.JWT_SECRET"))
    out = compile_tree(tmp_path, tree=tree)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "error[unknown-root]: `$env.JWT_SECRET` is not an environment variable" in out.stderr
    assert "allowed now: LIBRARY_NAME" in out.stderr, out.stderr


def test_pyproject_names_the_metabuilder_source(tmp_path: Path) -> None:
    """`make compile` runs `python -m compiler compile` without arguments: the MetaBuilder
    source, its overlays, the packages and the output come from pyproject.toml."""
    (tmp_path / "pyproject.toml").write_text(
        "[tool.workflow-compiler]\n"
        f'metabuilder = "{(TREE / "root").as_posix()}"\n'
        f'overlay = "{(TREE / "overlay").as_posix()}"\n'
        'packages = ["library"]\n'
        'out = "build/gen"\n'
    )
    run = subprocess.run(
        [sys.executable, "-m", "compiler", "compile"],
        capture_output=True, text=True, cwd=tmp_path, env={"PYTHONPATH": str(ROOT), "PATH": ""},
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "build" / "gen" / "library" / "list_books.py").is_file()
    (tmp_path / "pyproject.toml").write_text('[tool.workflow-compiler]\nsoruces = ["x"]\n')
    run = subprocess.run(
        [sys.executable, "-m", "compiler", "check"],
        capture_output=True, text=True, cwd=tmp_path, env={"PYTHONPATH": str(ROOT), "PATH": ""},
    )  # fmt: skip
    assert run.returncode == 2 and "has no key soruces" in run.stderr, run.stderr
    assert "Traceback" not in run.stderr


def test_a_built_filter_with_a_field_the_entity_lacks(tmp_path: Path) -> None:
    """The keys of a filter an expression builds are checked where the transform names them."""
    tree = copy_tree(tmp_path)
    path = tree / "root" / "packages" / "library" / "workflow" / "search-books.json"
    path.write_text(
        path.read_text().replace('"genre": "{{ $json.genre', '"genres": "{{ $json.genre')
    )
    out = compile_tree(tmp_path, tree=tree)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "search-books.json:" in out.stderr and "Book has no field `genres`" in out.stderr
    assert "did you mean `genre`?" in out.stderr, out.stderr


def test_a_comparison_of_two_values_that_can_only_be_undefined() -> None:
    """Upstream's ownership check `$json.userId === $context.userId` compared two undefined
    values (always true: everyone passed). A comparison whose sides can only be undefined is
    refused; a literal `undefined` says what it means and stays allowed."""
    from compiler.expressions.evaluate import translate_expression
    from compiler.expressions.parser import ExpressionError

    with pytest.raises(ExpressionError) as err:
        translate_expression("[1].forEach(x => x) === [2].forEach(x => x)")
    assert "can only be undefined, so it is always true" in err.value.message
    assert err.value.code.name == "expression-type"
    translate_expression("undefined === undefined")
