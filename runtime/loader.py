"""Load the compiled workflows (``generated/registry.py``) for the runtime."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
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
    openapi: Path | None = None  # the compiler's openapi.json, when the folder has one

    def ddl(self, dialect: str) -> tuple[str, ...]:
        own = self.ddl_sqlite if dialect == "sqlite" else self.ddl_postgresql
        return (*own, *history_ddl(dialect))


def load_registry(directory: str) -> Registry:
    """The compiled workflows in ``directory``, wherever it is and whatever it is called: it
    is imported as a package of its own (its modules import each other relatively), under its
    folder's name when that is free, so two output folders can be loaded side by side.
    ConfigError, one line, when it is missing or does not load."""
    path = Path(directory).resolve()
    if not (path / "registry.py").is_file():
        raise ConfigError(f"{directory}/registry.py not found: run `make compile` first")
    try:
        module = import_package(path)
        return Registry(
            tuple(module.WORKFLOWS),
            tuple(module.ENTITIES),
            tuple(module.DDL_SQLITE),
            tuple(module.DDL_POSTGRESQL),
            tuple(module.TENANT_SELECTS),
            path / "openapi.json" if (path / "openapi.json").is_file() else None,
        )
    except ConfigError:
        raise
    except Exception as err:  # a broken or hand-edited folder: say where, not a traceback
        where = _innermost(err)
        raise ConfigError(
            f"{directory} does not load ({type(err).__name__}: {err}{where}): "
            "compile it again with `make compile`"
        ) from None


def import_package(path: Path) -> ModuleType:
    """The compiled folder ``path`` imported as a package; its ``registry`` module."""
    name = path.name if path.name.isidentifier() else "compiled_workflows"
    held = sys.modules.get(name)
    if held is not None and Path(next(iter(getattr(held, "__path__", [""])), "")) != path:
        digest = hashlib.sha256(str(path).encode()).hexdigest()[:12]
        name = f"{name}_{digest}"  # another folder of that name is loaded already
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, path / "__init__.py", submodule_search_locations=[str(path)]
        )
        if spec is None or spec.loader is None or not (path / "__init__.py").is_file():
            raise ConfigError(f"{path}/__init__.py not found: run `make compile` first")
        package = importlib.util.module_from_spec(spec)
        sys.modules[name] = package
        try:
            spec.loader.exec_module(package)
        except BaseException:
            del sys.modules[name]
            raise
    return importlib.import_module(f"{name}.registry")


def _innermost(err: BaseException) -> str:
    """`` at file:line`` of the generated file the error was raised in, when there is one."""
    tb = err.__traceback__
    where = ""
    while tb is not None:
        if "importlib" not in tb.tb_frame.f_code.co_filename:
            where = f" at {tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}"
        tb = tb.tb_next
    if isinstance(err, SyntaxError) and err.filename:
        where = f" at {err.filename}:{err.lineno}"
    return where
