"""The registry of diagnostic codes: stable kebab-case names with a one-line summary.

The wording of messages and hints lives in ``compiler/messages.py``, in one place where a
reviewer can read and reword it; the long explanations are in ``compiler/explain.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Severity(Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Code:
    name: str
    severity: Severity
    summary: str


_ALL: dict[str, Code] = {}


def _code(name: str, severity: Severity, summary: str) -> Code:
    code = Code(name, severity, summary)
    assert name not in _ALL, name
    _ALL[name] = code
    return code


E, W = Severity.ERROR, Severity.WARNING

# load
INVALID_JSON = _code("invalid-json", E, "the file is not valid JSON")
DUPLICATE_KEY = _code("duplicate-key", E, "an object repeats a key")
UNREADABLE_FILE = _code("unreadable-file", E, "the file cannot be read")
INVALID_YAML = _code("invalid-yaml", E, "a DBAL entity file is not valid YAML")
# schema
SCHEMA_VIOLATION = _code("schema-violation", E, "a value does not match the file format")
UNKNOWN_KEY = _code("unknown-key", E, "an object has a key the format does not define")
MISSING_KEY = _code("missing-key", E, "an object lacks a required key")
WRONG_TYPE = _code("wrong-type", E, "a value has the wrong JSON type")
UNKNOWN_NODE_TYPE = _code(
    "unknown-node-type", E, "a node's type is not one of the supported types"
)
UNSUPPORTED_TYPE_VERSION = _code(
    "unsupported-type-version", E, "a node's typeVersion is not supported for its type"
)
# model
DUPLICATE_NODE_ID = _code("duplicate-node-id", E, "two nodes share an id")
DUPLICATE_WORKFLOW_ID = _code("duplicate-workflow-id", E, "two workflows share an id")
UNKNOWN_ENTITY = _code("unknown-entity", E, "a database operation names an undeclared entity")
UNKNOWN_FIELD = _code("unknown-field", E, "a filter or data key is not a field of the entity")
MISSING_ENTITIES = _code("missing-entities", E, "a package has no entities.json")
INVALID_ENTITY = _code("invalid-entity", E, "an entity declaration is inconsistent")
MISSING_PARAMETER = _code("missing-parameter", E, "a node lacks a parameter its operation needs")
INVALID_PARAMETER = _code(
    "invalid-parameter", E, "a node parameter has a value the node cannot use"
)
INVALID_NAME = _code(
    "invalid-name", E, "a package folder or workflow file cannot name a Python module"
)
INVALID_TRIGGER = _code("invalid-trigger", E, "a meta.triggers entry cannot be parsed")
DUPLICATE_ROUTE = _code("duplicate-route", E, "two workflows claim the same route")
# graph
UNKNOWN_CONNECTION_SOURCE = _code(
    "unknown-connection-source", E, "connections names a source node that does not exist"
)
DANGLING_CONNECTION = _code(
    "dangling-connection", E, "a connection targets a node that does not exist"
)
CYCLE = _code("cycle", E, "the connections form a cycle")
UNREACHABLE_NODE = _code("unreachable-node", W, "a node cannot be reached from the trigger")
SEVERAL_ROOTS = _code("several-roots", E, "more than one node has no incoming connection")
NO_NODES = _code("no-nodes", E, "the workflow has no nodes")
WORKFLOW_TOO_LARGE = _code(
    "workflow-too-large", E, "the workflow has more nodes than the documented limit"
)
INVALID_BRANCH = _code("invalid-branch", E, "a node has an output branch it does not produce")
FAN_IN = _code("fan-in", E, "a node is reached from several nodes")
# expressions
EXPRESSION_SYNTAX = _code("expression-syntax", E, "an expression cannot be parsed")
UNSUPPORTED_EXPRESSION = _code(
    "unsupported-expression", E, "an expression uses JavaScript outside the supported subset"
)
UNKNOWN_ROOT = _code(
    "unknown-root", E, "an expression names a root other than $json, $context, $steps"
)
UNKNOWN_PROPERTY = _code(
    "unknown-property", E, "an expression reads a property the value does not have"
)
UNKNOWN_STEP = _code("unknown-step", E, "$steps names a node that is not upstream of the use")
UNKNOWN_METHOD = _code("unknown-method", E, "an expression calls a method the value does not have")
EXPRESSION_TYPE = _code("expression-type", E, "an expression's type does not fit where it is used")
EXPRESSION_TOO_DEEP = _code(
    "expression-too-deep", E, "an expression nests deeper than the compiler's documented limit"
)
# checks
TENANT_FILTER_MISSING = _code(
    "tenant-filter-missing",
    W,
    "a database operation does not filter on tenantId: the context tenant is added",
)
TENANT_FILTER_NOT_CONTEXT = _code(
    "tenant-filter-not-context", E, "a tenantId filter is not exactly {{ $context.tenantId }}"
)
TENANT_DATA_MISSING = _code("tenant-data-missing", E, "a create does not write tenantId")
TENANT_DATA_NOT_CONTEXT = _code(
    "tenant-data-not-context",
    E,
    "a create or update writes tenantId from something other than the context",
)
WORKFLOW_TENANT = _code(
    "workflow-tenant", E, "the workflow's tenantId is not {{ $context.tenantId }}"
)
UNKNOWN_VALIDATOR = _code("unknown-validator", E, "a validate node names an unknown validator")
CONTRADICTORY_GUARDS = _code(
    "contradictory-guards", E, "two guards on one path can never both hold"
)
INVALID_MAIL_TEMPLATE = _code(
    "invalid-mail-template", E, "a mail template does not parse, or reads a value not given"
)
SENSITIVE_VALUE_LOGGED = _code(
    "sensitive-value-logged", E, "a log node would write a password, hash or token"
)
# warnings
EFFECT_IN_TRANSACTION = _code(
    "effect-in-transaction", W, "an effect the workflow waits for runs after a write"
)
JWT_SECRET_IGNORED = _code(
    "jwt-secret-ignored", W, "generate_jwt names a secret; the runtime signs with its own key"
)
MAIL_TEMPLATE_MISSING = _code(
    "mail-template-missing", W, "a mail names a template file that does not exist"
)
UNUSED_INPUT = _code("unused-input", W, "a meta.inputs entry is read by no node")
FALSY_FALLBACK = _code(
    "falsy-fallback", W, "a fallback is computed to a falsy constant, so it never applies"
)
UNKNOWN_STATIC_DATA = _code("unknown-static-data", W, "a staticData key has no effect")
SCHEDULE_DISAGREEMENT = _code(
    "schedule-disagreement", W, "meta.schedule, the SCHEDULED trigger and updateInterval disagree"
)
INACTIVE_WORKFLOW = _code(
    "inactive-workflow", W, "the workflow is inactive and is not served by default"
)
UNAUTHENTICATED_ROUTE = _code(
    "unauthenticated-route", W, "an HTTP-triggered workflow never checks the user"
)
# internal
INTERNAL_ERROR = _code("internal-error", E, "the compiler failed; this is a bug in the compiler")


def lookup(name: str) -> Code | None:
    return _ALL.get(name)


def all_codes() -> list[Code]:
    return sorted(_ALL.values(), key=lambda c: c.name)
