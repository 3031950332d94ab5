"""Load the compiled workflows (``generated/registry.py``) for the runtime."""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from runtime.config import ConfigError
from runtime.database import history_ddl
from runtime.workflow import CompiledWorkflow, EntityTable


@dataclass(frozen=True)
class Registry:
    workflows: tuple[CompiledWorkflow, ...]
    entities: tuple[EntityTable, ...]
    ddl_sqlite: tuple[str, ...]
    ddl_postgresql: tuple[str, ...]
    tenant_selects: tuple[str, ...]  # `SELECT <tenant column> AS tenant FROM <table>` each

    def ddl(self, dialect: str) -> tuple[str, ...]:
        own = self.ddl_sqlite if dialect == "sqlite" else self.ddl_postgresql
        return (*own, *history_ddl(dialect))


def load_registry(directory: str) -> Registry:
    """The compiled workflows in ``directory`` (a package named like the folder)."""
    path = Path(directory).resolve()
    if not (path / "registry.py").is_file():
        raise ConfigError(f"{directory}/registry.py not found: run `make compile` first")
    sys.path.insert(0, str(path.parent))
    module: ModuleType = importlib.import_module(f"{path.name}.registry")
    return Registry(
        tuple(module.WORKFLOWS),
        tuple(module.ENTITIES),
        tuple(module.DDL_SQLITE),
        tuple(module.DDL_POSTGRESQL),
        tuple(module.TENANT_SELECTS),
    )
