"""Static description of a compiled workflow, as generated modules declare it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from runtime.execution import Execution
from runtime.results import Result


@dataclass(frozen=True)
class HttpTrigger:
    method: str
    path: str

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class ScheduleTrigger:
    every_ms: int = 0  # a period; or
    cron: str | None = None  # a five-field cron expression in the workflow's timezone

    def __str__(self) -> str:
        if self.cron is not None:
            return f"schedule `{self.cron}`"
        seconds = self.every_ms / 1000
        return f"every {seconds:g} s"


@dataclass(frozen=True)
class Settings:
    timezone: str
    execution_timeout_s: int
    save_execution_progress: bool
    save_data_error_execution: str
    save_data_success_execution: str
    error_handler: str


@dataclass(frozen=True)
class EntityTable:
    """An entity as the runtime sees it: its table and its fields' columns and types, the
    names as SQL spells them (checked by the compiler, quoted when reserved)."""

    name: str
    table: str
    primary_key: str  # a field name
    fields: tuple[tuple[str, str, str], ...]  # (field, column, type)

    def column(self, field_name: str) -> str:
        for name, column, _ in self.fields:
            if name == field_name:
                return column
        raise KeyError(field_name)


@dataclass(frozen=True)
class Query:
    """A SQL statement and its constant parameters."""

    sql: str
    params: Mapping[str, object]


@dataclass(frozen=True)
class WorkflowInfo:
    id: str
    name: str
    version_id: str
    active: bool
    source: str
    triggers: tuple[HttpTrigger | ScheduleTrigger, ...]
    settings: Settings
    static_data: Mapping[str, object]  # the workflow's staticData, for documentation and tools
    checks_user: bool
    writes: bool  # an execution writes to the database (SQLite serializes those)
    body_inputs: tuple[str, ...]  # the `$json` fields a request body carries
    not_found: tuple[str, str] | None  # the workflow's first 404: what a cross-tenant call sees
    schedule_tenants: Query | None  # the tenants a scheduled run is for (None: every tenant)
    permissions_required: str | None = None
    auth_required: str | None = None  # every execution needs a user first: the 401 message
    minimum_user_level: int | None = None
    streams: bool = False  # an execution may answer with an event stream (stream caps apply)
    tags: tuple[str, ...] = field(default_factory=tuple)
    # Its database work is one statement that nothing after it can undo (the compiler's
    # proof: compiler/onestatement.py): PostgreSQL runs it without BEGIN and COMMIT.
    one_statement: bool = False


Handler = Callable[[Execution, Any], Awaitable[Result]]
InputParser = Callable[[Mapping[str, object]], Any]


@dataclass(frozen=True)
class CompiledWorkflow:
    info: WorkflowInfo
    parse_input: InputParser
    run: Handler


def access_of(wf: CompiledWorkflow) -> str:
    """A route's access in words, as the route table and the console show it."""
    info = wf.info
    if not info.checks_user:
        return "open"
    parts = ["user"]
    if info.minimum_user_level is not None:
        parts.append(f"level ≥ {info.minimum_user_level}")
    if info.permissions_required is not None:
        parts.append(f"scope {info.permissions_required}")
    return ", ".join(parts)
