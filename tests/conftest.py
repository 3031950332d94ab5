from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _project_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def in_ci() -> bool:
    return os.environ.get("CI") == "true"


@pytest.fixture(scope="session")
def postgres():  # type: ignore[no-untyped-def]
    from tests.services import Postgres

    pg = Postgres.start()
    yield pg
    pg.stop()


@pytest.fixture(scope="session")
def redis():  # type: ignore[no-untyped-def]
    from tests.services import Redis

    server = Redis.start()
    yield server
    server.stop()
