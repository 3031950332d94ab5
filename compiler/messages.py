"""Every diagnostic's wording, in one place: messages bound to their code, and hints.

A :class:`Message` is a template and the code it is reported under (as mypy's
``ErrorMessage``); ``MESSAGE.format(...)`` fills it in and keeps the code, so a check reports
``diags.add(messages.ROUTE_TAKEN.format(...), span, hint=...)`` and cannot pair wording with
the wrong code. Names say what the problem is. Hints are plain templates (``HINT__*``).
Reviewing or rewording the compiler's messages means reading this file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from compiler import codes
from compiler.codes import Code


@dataclass(frozen=True)
class Text:
    """A message with its fields filled in, still bound to its code."""

    code: Code
    text: str


@dataclass(frozen=True)
class Message:
    code: Code
    template: str

    def format(self, *args: object) -> Text:
        return Text(self.code, self.template.format(*args))


# compiler/load.py
JSON_ENDS_EARLY: Final = Message(codes.INVALID_JSON, "unexpected end of file, expected a value")
JSON_SINGLE_QUOTES: Final = Message(codes.INVALID_JSON, "strings must use double quotes")
HINT__WRITE_TEXT_NOT_TEXT: Final = "write \"text\", not 'text'"
JSON_VALUE_EXPECTED_NOT_TOKEN: Final = Message(
    codes.INVALID_JSON, "unexpected `{0}`, expected a value"
)
HINT__REMOVE_THE_TRAILING_COMMA: Final = "remove the trailing comma"
JSON_VALUE_EXPECTED: Final = Message(codes.INVALID_JSON, "unexpected {0}, expected a value")
JSON_NESTED_TOO_DEEP: Final = Message(
    codes.INVALID_JSON, "values are nested more than {0} levels deep"
)
JSON_TRAILING_COMMA_IN_OBJECT: Final = Message(codes.INVALID_JSON, "trailing comma before `}}`")
HINT__REMOVE_THE_COMMA: Final = "remove the comma"
JSON_KEY_EXPECTED: Final = Message(
    codes.INVALID_JSON, "unexpected {0}, expected a key in double quotes"
)
HINT__OBJECT_KEYS_ARE_STRINGS: Final = "object keys are strings in double quotes"
KEY_REPEATED: Final = Message(codes.DUPLICATE_KEY, "duplicate key `{0}` in object")
HINT__KEEP_ONE_OF_THE_KEYS: Final = "keep one `{0}`"
JSON_COLON_EXPECTED: Final = Message(
    codes.INVALID_JSON, "unexpected {0}, expected `:` after the key"
)
JSON_OBJECT_NOT_CLOSED: Final = Message(codes.INVALID_JSON, "unexpected {0}, expected `,` or `}}`")
HINT__SEPARATE_MEMBERS_WITH_COMMAS: Final = "separate members with commas"
JSON_TRAILING_COMMA_IN_ARRAY: Final = Message(codes.INVALID_JSON, "trailing comma before `]`")
JSON_ARRAY_NOT_CLOSED: Final = Message(codes.INVALID_JSON, "unexpected {0}, expected `,` or `]`")
HINT__SEPARATE_ITEMS_WITH_COMMAS: Final = "separate items with commas"
JSON_STRING_NOT_CLOSED: Final = Message(codes.INVALID_JSON, "unterminated string")
HINT__CLOSE_THE_STRING_WITH: Final = 'close the string with `"`'
JSON_BAD_UNICODE_ESCAPE: Final = Message(
    codes.INVALID_JSON, "invalid \\u escape, expected four hex digits"
)
JSON_BAD_ESCAPE: Final = Message(codes.INVALID_JSON, "invalid escape `\\{0}` in string")
HINT__VALID_ESCAPES_ARE_B: Final = 'valid escapes are \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX'
JSON_CONTROL_CHARACTER: Final = Message(codes.INVALID_JSON, "control character in string")
HINT__WRITE_A_NEWLINE_AS: Final = "write a newline as \\n and a tab as \\t"
JSON_BAD_NUMBER_START: Final = Message(codes.INVALID_JSON, "invalid number starting with {0}")
JSON_BAD_NUMBER: Final = Message(codes.INVALID_JSON, "invalid number `{0}{1}`")
JSON_NUMBER_OUT_OF_RANGE: Final = Message(codes.INVALID_JSON, "number `{0}` is out of range")
JSON_TEXT_AFTER_VALUE: Final = Message(
    codes.INVALID_JSON, "unexpected {0} after the end of the JSON value"
)
HINT__A_FILE_HOLDS_EXACTLY: Final = "a file holds exactly one JSON value"
FILE_NOT_READABLE: Final = Message(codes.UNREADABLE_FILE, "cannot read file: {0}")
HINT__CHECK_THAT_EXISTS_AND: Final = "check that {0} exists and is readable"
FILE_NOT_UTF8: Final = Message(codes.INVALID_JSON, "the file is not valid UTF-8")
HINT__SAVE_THE_FILE_AS: Final = "save the file as UTF-8"

# compiler/schema.py
KEY_NOT_IN_FORMAT: Final = Message(codes.UNKNOWN_KEY, "unknown key `{0}` in {1}")
REQUIRED_KEY_MISSING: Final = Message(codes.MISSING_KEY, "{0} is missing the required key `{1}`")
VALUE_OF_WRONG_JSON_TYPE: Final = Message(codes.WRONG_TYPE, "{0} must be {1}, not {2}")
HINT__WRITE_HERE: Final = "write {0} here"
VALUE_NOT_ONE_OF: Final = Message(codes.SCHEMA_VIOLATION, "{0} must be one of {1}")
HINT__DID_YOU_MEAN: Final = "did you mean {0}?"
HINT__USE_ONE_OF: Final = "use one of {0}"
VALUE_DOES_NOT_MATCH_PATTERN: Final = Message(
    codes.SCHEMA_VIOLATION, "{0} {1} has an invalid form"
)
HINT__IT_MUST_MATCH: Final = "it must match {0}"
VALUE_VIOLATES_FORMAT: Final = Message(codes.SCHEMA_VIOLATION, "{0}: {1}")
HINT__SEE_COMPILER_SCHEMAS_FOR: Final = "see compiler/schemas/ for the file format"

# compiler/pipeline.py
PACKAGE_FOLDER_NOT_IDENTIFIER: Final = Message(
    codes.INVALID_NAME, "package folder `{0}` is not a valid Python name"
)
HINT__NAME_WORKFLOW_FOLDERS_WITH: Final = (
    "name workflow folders with letters, digits and underscores, not a Python keyword"
)
WORKFLOW_ID_TAKEN: Final = Message(
    codes.DUPLICATE_WORKFLOW_ID, "workflow id `{0}` is also used by {1}"
)
HINT__GIVE_EACH_WORKFLOW_ITS: Final = "give each workflow its own id"
ROUTE_TAKEN: Final = Message(codes.DUPLICATE_ROUTE, "route `{0} {1}` is also claimed by {2}")
HINT__GIVE_EACH_WORKFLOW_ITS_OWN: Final = "give each workflow its own route"
PACKAGE_WITHOUT_ENTITIES: Final = Message(
    codes.MISSING_ENTITIES, "package `{0}` has no entities.json"
)
HINT__DECLARE_THE_PACKAGE_S: Final = "declare the package's entities in {0}"
FILE_NAME_NOT_MODULE: Final = Message(codes.INVALID_NAME, "`{0}` cannot name a Python module")
HINT__NAME_WORKFLOW_FILES_WITH: Final = (
    "name workflow files with letters, digits and underscores: not a Python keyword, not"
    " entities or registry, not starting with two underscores"
)
DEMO_FILE_HOLDS_A_WORKFLOW: Final = Message(
    codes.INVALID_NAME, "`demo.json` is reserved for demo data, but this file holds a workflow"
)
HINT__RENAME_THE_WORKFLOW_FILE: Final = "rename the workflow file; demo.json holds demo rows"
ENTITY_NAME_NOT_USABLE: Final = Message(
    codes.INVALID_ENTITY, "entity name `{0}` cannot name a Python type (it is a keyword)"
)
HINT__RENAME_THE_ENTITY: Final = "rename the entity, e.g. `{0}Row`"
TABLE_OF_TWO_ENTITIES: Final = Message(
    codes.INVALID_ENTITY, "entities `{0}` and `{1}` both map table `{2}`"
)
TABLE_MAPPED_DIFFERENTLY: Final = Message(
    codes.INVALID_ENTITY,
    "table `{0}` is mapped differently by package `{1}` and package `{2}` ({3})",
)
HINT__ONE_TABLE_ONE_MAPPING: Final = (
    "a table has one mapping, project-wide: declare it identically, or use another table"
)
COLUMN_OF_TWO_FIELDS: Final = Message(
    codes.INVALID_ENTITY, "fields `{0}` and `{1}` of {2} both map column `{3}`"
)
HINT__ONE_COLUMN_ONE_FIELD: Final = "give each field its own column"
LABEL__MAPPED_HERE: Final = "mapped here"

# compiler/model.py
DEFAULT_DOES_NOT_FIT_TYPE: Final = Message(
    codes.INVALID_ENTITY, "default {0} does not fit the {1} field `{2}.{3}`"
)
HINT__USE_A_VALUE_OF: Final = 'use a value of the field\'s type, or "uuid" / "now" to generate one'
PRIMARY_KEY_NOT_A_FIELD: Final = Message(
    codes.INVALID_ENTITY, "primary key `{0}` is not a field of {1}"
)
HINT__NAME_ONE_OF_THE: Final = "name one of the declared fields"
KEY_FIELD_NOT_DECLARED: Final = Message(codes.INVALID_ENTITY, "`{0}` is not a field of {1}")
HINT__LIST_DECLARED_FIELDS_ONLY: Final = "list declared fields only"
SCHEDULE_UNREADABLE: Final = Message(codes.INVALID_TRIGGER, "cannot read the schedule `{0}`")
HINT__WRITE_SCHEDULED_EVERY_N: Final = (
    "write SCHEDULED:every_<n>_<seconds|minutes|hours|milliseconds>, or a five-field cron "
    "expression: SCHEDULED:*/30 * * * *"
)
TRIGGER_UNREADABLE: Final = Message(codes.INVALID_TRIGGER, "cannot read the trigger `{0}`")
ROUTE_NOT_UNDER_TENANT: Final = Message(
    codes.INVALID_TRIGGER, "route `{0}` does not start with `/api/v1/{{tenant}}/`"
)
HINT__EVERY_ROUTE_IS_TENANT: Final = (
    "every route is tenant-scoped: `/api/v1/{{tenant}}/<package>/<name>`"
)
ROUTE_EMPTY_SEGMENT: Final = Message(codes.INVALID_TRIGGER, "route `{0}` has an empty segment")
HINT__REMOVE_THE_DOUBLED_OR: Final = "remove the doubled or trailing `/`"
ROUTE_PARAMETER_MALFORMED: Final = Message(
    codes.INVALID_TRIGGER, "route segment `{0}` is not a parameter like `{{name}}`"
)
HINT__A_PARAMETER_IS_A: Final = "a parameter is a whole segment: `/{{channelId}}/`"
ROUTE_PARAMETER_REPEATED: Final = Message(
    codes.INVALID_TRIGGER, "route parameter `{0}` appears twice"
)
HINT__GIVE_EACH_PARAMETER_ITS: Final = "give each parameter its own name"
ROUTE_SEGMENT_BAD_CHARACTERS: Final = Message(
    codes.INVALID_TRIGGER, "route segment `{0}` has characters a URL path cannot hold"
)
HINT__USE_LETTERS_DIGITS_AND: Final = "use letters, digits, `-`, `_` and `.`"
PARAMETER_MISSING: Final = Message(
    codes.MISSING_PARAMETER, "node `{0}` needs the parameter `{1}` ({2})"
)
HINT__ADD_TO_ITS_PARAMETERS: Final = 'add `"{0}": ...` to its parameters'
PARAMETER_NOT_A_STRING: Final = Message(
    codes.INVALID_PARAMETER, "parameter `{0}` of node `{1}` must be a string"
)
HINT__WRITE_AS_A_STRING: Final = "write {0} as a string"
PARAMETER_NOT_AN_OPTION: Final = Message(
    codes.INVALID_PARAMETER, "`{0}` is not a valid `{1}` for node `{2}`"
)
HINT__USE_ONE_OF_2: Final = "use one of: {0}"
PARAMETER_NOT_AN_OBJECT: Final = Message(
    codes.INVALID_PARAMETER, "parameter `{0}` of node `{1}` must be an object"
)
HINT__WRITE_AS_FIELD_VALUE: Final = 'write {0} as {{"field": value}}'
PARAMETER_NOT_A_COUNT: Final = Message(
    codes.INVALID_PARAMETER, "parameter `{0}` of node `{1}` must be a whole number 0 or more"
)
HINT__WRITE_E_G_100: Final = 'write e.g. `"{0}": 100`'
PARAMETER_UNKNOWN: Final = Message(codes.INVALID_PARAMETER, "{0} of node `{1}` has no key `{2}`")
HINT__IT_TAKES: Final = "it takes: {0}"
OPERATION_WITHOUT_DATA: Final = Message(
    codes.MISSING_PARAMETER, "node `{0}` runs {1} but has no `data`"
)
HINT__ADD_DATA_FIELD_VALUE: Final = 'add `"data": {{"field": value, ...}}`'
OPERATION_WITHOUT_FILTER: Final = Message(
    codes.TENANT_FILTER_MISSING, "node `{0}` runs {1} without a filter; it must filter on tenantId"
)
HINT__ADD_FILTER_TENANTID_CONTEXT: Final = (
    'add `"filter": {{"tenantId": "{{{{ $context.tenantId }}}}"}}`'
)
CREATE_WITH_FILTER: Final = Message(
    codes.INVALID_PARAMETER, "node `{0}` creates a row; `filter` has no meaning here"
)
HINT__REMOVE_FILTER_THE_ROW: Final = "remove `filter`; the row is written from `data`"
DATA_NOT_ACCEPTED: Final = Message(
    codes.INVALID_PARAMETER, "node `{0}` runs {1}; `data` has no meaning here"
)
HINT__REMOVE_DATA: Final = "remove `data`"
PAGING_NOT_ACCEPTED: Final = Message(
    codes.INVALID_PARAMETER, "node `{0}` runs {1}; only a read takes `{2}`"
)
HINT__REMOVE_KEY: Final = "remove `{0}`"
AGGREGATE_ONLY: Final = Message(
    codes.INVALID_PARAMETER, "node `{0}` runs {1}; only database_aggregate takes `{2}`"
)
AGGREGATION_INVALID: Final = Message(
    codes.INVALID_PARAMETER, "aggregation `{0}` of node `{1}` cannot be read: `{2}`"
)
HINT__AGGREGATION: Final = (
    'write "count", or "sum(field)", "avg(field)", "min(field)" or "max(field)"'
)
AGGREGATION_NOT_NUMERIC: Final = Message(
    codes.EXPRESSION_TYPE, "`{0}` of node `{1}` needs a number field, but {2}.{3} is a {4}"
)
HINT__AGGREGATE_NUMBER_FIELD: Final = "sum, avg, min and max take integer, number or bigint fields"
AGGREGATE_GROUP_JSON: Final = Message(
    codes.INVALID_PARAMETER, "node `{0}` groups by {1}.{2}, a JSON field"
)
HINT__AGGREGATE_GROUP_JSON: Final = "group by a text, number or boolean field"
OFFSET_TWICE: Final = Message(
    codes.INVALID_PARAMETER, "node `{0}` gives both `offset` and `skip` (the same thing)"
)
SORT_DIRECTION_INVALID: Final = Message(
    codes.INVALID_PARAMETER, "sort key `{0}` of node `{1}` needs a direction"
)
SORT_DYNAMIC_ONE_KEY: Final = Message(
    codes.INVALID_PARAMETER, "node `{0}` sorts by an expression; it may have one sort key"
)
HINT__SORT_DYNAMIC_ONE_KEY: Final = (
    "sort by one key when its name or direction comes from an expression"
)
HINT__SORT_DIRECTION: Final = (
    'write 1 or "asc" (ascending), -1 or "desc" (descending), or an expression giving one'
)
NODE_TYPE_UNKNOWN: Final = Message(
    codes.UNKNOWN_NODE_TYPE, "node `{0}` has the unknown type `{1}`"
)
HINT__SUPPORTED_TYPES: Final = "supported types: {0}"
NODE_TYPE_VERSION_UNSUPPORTED: Final = Message(
    codes.UNSUPPORTED_TYPE_VERSION, "node `{0}`: {1} has no typeVersion {2}"
)
HINT__SUPPORTED: Final = "supported: {0}"
VALIDATOR_UNKNOWN: Final = Message(
    codes.UNKNOWN_VALIDATOR, "unknown validator `{0}` in node `{1}`"
)
HINT__VALIDATORS: Final = "validators: {0}"
STATUS_OUT_OF_RANGE: Final = Message(
    codes.INVALID_PARAMETER, "`status` of node `{0}` must be an HTTP status code"
)
HINT__WRITE_E_G_STATUS: Final = 'write e.g. `"status": 200`'
TASKS_NOT_A_LIST: Final = Message(
    codes.INVALID_PARAMETER, "`tasks` of node `{0}` must be a non-empty list"
)
HINT__LIST_THE_TASKS_AS: Final = "list the tasks as objects with id, op, entity"
TASK_NOT_AN_OBJECT: Final = Message(
    codes.INVALID_PARAMETER, "each task of node `{0}` must be an object"
)
HINT__WRITE_ID_OP_ENTITY: Final = 'write {{"id": ..., "op": ..., "entity": ...}}'
TASK_ID_REPEATED: Final = Message(codes.INVALID_PARAMETER, "node `{0}` has two tasks named `{1}`")
HINT__GIVE_EACH_TASK_ITS: Final = "give each task its own id"
NODE_ID_REPEATED: Final = Message(codes.DUPLICATE_NODE_ID, "two nodes have the id `{0}`")
HINT__RENAME_ONE_OF_THE_NODES: Final = "rename one of them"
STATIC_DATA_KEY_UNKNOWN: Final = Message(
    codes.UNKNOWN_STATIC_DATA, "staticData key `{0}` has no effect"
)
HINT__KNOWN_KEYS: Final = "known keys: {0}"
STATIC_DATA_NOT_POSITIVE: Final = Message(
    codes.INVALID_PARAMETER, "staticData `{0}` must be a positive whole number"
)
HINT__TEXT: Final = "{0}: {1}"

# compiler/graph.py
WORKFLOW_EMPTY: Final = Message(codes.NO_NODES, "workflow `{0}` has no nodes")
HINT__ADD_AT_LEAST_ONE: Final = "add at least one node to `nodes`"
CONNECTION_FROM_UNKNOWN_NODE: Final = Message(
    codes.UNKNOWN_CONNECTION_SOURCE, "connections names `{0}`, which is not a node"
)
HINT__NODE_IDS: Final = "node ids: {0}"
OUTPUT_NOT_PRODUCED: Final = Message(codes.INVALID_BRANCH, "node `{0}` has no output main[{1}]")
CONNECTION_TO_UNKNOWN_NODE: Final = Message(
    codes.DANGLING_CONNECTION, "node `{0}` connects to `{1}`, which does not exist"
)
HINT__CONNECT_TO_ONE_OF: Final = "connect to one of: {0}"
INPUT_INDEX_NOT_ZERO: Final = Message(
    codes.INVALID_BRANCH, "node `{0}` has one input; index {1} does not exist"
)
HINT__USE_INDEX_0: Final = 'use `"index": 0`'
CONNECTIONS_FORM_CYCLE: Final = Message(codes.CYCLE, "connections form a cycle: {0}")
HINT__REMOVE_THE_CONNECTION_FROM: Final = (
    "remove the connection from `{0}` to `{1}`; workflows run top to bottom once"
)
NO_ENTRY_NODE: Final = Message(
    codes.CYCLE, "every node has an incoming connection, so none can start the workflow"
)
HINT__THE_FIRST_NODE_MUST: Final = "the first node must not be the target of a connection"
SECOND_ENTRY_NODE: Final = Message(
    codes.SEVERAL_ROOTS,
    "node `{0}` has no incoming connection, but `{1}` already starts the workflow",
)
HINT__CONNECT_FROM_THE_NODE: Final = (
    "connect `{0}` from the node that should run before it, or delete it"
)
NODE_REACHED_TWICE: Final = Message(codes.FAN_IN, "node `{0}` is reached from several nodes ({1})")
HINT__A_NODE_RUNS_AFTER: Final = (
    "a node runs after exactly one other node; duplicate the node for each path"
)
NODE_NEVER_RUNS: Final = Message(
    codes.UNREACHABLE_NODE, "node `{0}` can never run: no path leads to it from `{1}`"
)
HINT__CONNECT_IT_FROM_A: Final = "connect it from a node reachable from `{0}`, or delete it"

# compiler/plan.py
CREATE_WITHOUT_TENANT: Final = Message(
    codes.TENANT_DATA_MISSING, "{0} creates a row without writing tenantId"
)
HINT__ADD_TO_DATA: Final = "add {0} to `data`"
WRITES_TENANT_NOT_CONTEXT: Final = Message(
    codes.TENANT_DATA_NOT_CONTEXT,
    "{0} writes tenantId from something other than $context.tenantId",
)
HINT__WRITE: Final = "write {0}"
FILTER_WITHOUT_TENANT: Final = Message(
    codes.TENANT_FILTER_MISSING,
    "{0} ({1} of {2}) does not filter on tenantId: the context tenant is added",
)
HINT__ADD_TO_FILTER_WITHOUT: Final = "write {0} in `filter` to say so (DBAL adds it the same way)"
FILTER_TENANT_NOT_CONTEXT: Final = Message(
    codes.TENANT_FILTER_NOT_CONTEXT,
    "{0} filters tenantId on something other than exactly $context.tenantId",
)
HINT__WRITE_THE_TENANT_COMES: Final = (
    "write {0}; the tenant comes from the authenticated request, never from input"
)
UPDATE_MOVES_ROWS_ACROSS_TENANTS: Final = Message(
    codes.TENANT_DATA_NOT_CONTEXT, "{0} would move rows to another tenant"
)
HINT__REMOVE_TENANTID_FROM_DATA: Final = "remove tenantId from `data`"
ENTITY_NOT_DECLARED: Final = Message(codes.UNKNOWN_ENTITY, "entity `{0}` is not declared")
HINT__DECLARED: Final = "declared: {0}"
HINT__DECLARE_THE_ENTITY: Final = (
    "declare it in the package's entities.json (with --metabuilder: in the DBAL YAML or the "
    "package's overlay)"
)
FIELD_NOT_DECLARED: Final = Message(codes.UNKNOWN_FIELD, "{0} has no field `{1}`")
PROPERTY_NOT_IN_RECORD: Final = Message(codes.UNKNOWN_PROPERTY, "{0} has no field `{1}`")
HINT__FIELDS: Final = "fields: {0}"
WORKFLOW_TENANT_NOT_CONTEXT: Final = Message(
    codes.WORKFLOW_TENANT, "the workflow's tenantId is not {{{{ $context.tenantId }}}}"
)
HINT__WRITE_TENANTID_CONTEXT_TENANTID: Final = 'write "tenantId": "{{{{ $context.tenantId }}}}"'
INPUT_NEVER_READ: Final = Message(
    codes.UNUSED_INPUT, "meta.inputs names `{0}`, which no node reads"
)
HINT__REMOVE_IT_OR_READ: Final = "remove it, or read it as `$json.{0}`"
HINT__META_INPUTS_LISTS_INPUT: Final = "meta.inputs lists input fields; this entry is not one"
VALUE_DOES_NOT_FIT_COLUMN: Final = Message(
    codes.EXPRESSION_TYPE, "{0}.{1} is a {2} field, but this value is {3}"
)
HINT__GIVE_A_VALUE: Final = "give a {0} value{1}"
FILTER_OPERATOR_UNKNOWN: Final = Message(
    codes.INVALID_PARAMETER, "unknown filter operator `{0}` on `{1}` of node `{2}`"
)
FILTER_IN_NOT_A_LIST: Final = Message(
    codes.EXPRESSION_TYPE, "`$in` on `{0}` of node `{1}` needs a list, but this value is {2}"
)
HINT__FILTER_IN_LIST: Final = 'give a list: `"$in": "{{ $json.ids }}"` or `["a", "b"]`'

CREATE_WITHOUT_REQUIRED_FIELD: Final = Message(
    codes.MISSING_PARAMETER, "node `{0}` creates {1} without `{2}`, which has no default"
)
HINT__ADD_TO_DATA_2: Final = "add `{0}` to `data`"

# compiler/warnings.py
WORKFLOW_INACTIVE: Final = Message(
    codes.INACTIVE_WORKFLOW, 'workflow `{0}` is inactive ("active": false)'
)
HINT__IT_IS_COMPILED_AND: Final = (
    "it is compiled and checked but served only with `--include-inactive`"
)
SCHEDULES_DISAGREE: Final = Message(
    codes.SCHEDULE_DISAGREEMENT, "the schedule is given three ways that disagree: {0}"
)
HINT__THE_RUNTIME_RUNS_IT: Final = (
    "the runtime runs it {0} (updateInterval); make the others agree"
)
ROUTE_NEVER_CHECKS_USER: Final = Message(
    codes.UNAUTHENTICATED_ROUTE,
    "`{0} {1}` never checks the user: anyone who knows the tenant can call it",
)
HINT__ADD_A_VALIDATE_NODE: Final = (
    "add a validate node on `{{{{ $context.user.id }}}}` if only signed-in users may call it; "
    "served with OPEN_ROUTES=protect (the default when RUNTIME_ENV=production) it takes a "
    "token or the internal key"
)

# compiler/expressions/parser.py
EXPRESSION_ENDS_EARLY: Final = Message(codes.EXPRESSION_SYNTAX, "unexpected end of expression")
ASSIGNMENT_UNSUPPORTED: Final = Message(
    codes.UNSUPPORTED_EXPRESSION, "assignment `{0}` is not supported"
)
HINT__EXPRESSIONS_ONLY_COMPUTE_VALUES: Final = (
    "expressions only compute values; did you mean `===`?"
)
ARROW_FUNCTION_UNSUPPORTED: Final = Message(
    codes.UNSUPPORTED_EXPRESSION, "arrow functions are not supported"
)
HINT__COMPUTE_THE_VALUE_DIRECTLY: Final = (
    "compute the value directly; loops over items are written as nodes"
)
BITWISE_OPERATOR_UNSUPPORTED: Final = Message(
    codes.UNSUPPORTED_EXPRESSION, "bitwise operator `{0}` is not supported"
)
HINT__USE_AND_FOR_LOGIC: Final = "use && and || for logic, Math.* for arithmetic"
COMMA_OPERATOR_UNSUPPORTED: Final = Message(
    codes.UNSUPPORTED_EXPRESSION, "the comma operator is not supported"
)
HINT__AN_EXPRESSION_COMPUTES_ONE: Final = (
    "an expression computes one value; use an array `[a, b]` for several"
)
SPREAD_UNSUPPORTED: Final = Message(codes.UNSUPPORTED_EXPRESSION, "spread `...` is not supported")
UNEXPECTED_TEXT: Final = Message(codes.EXPRESSION_SYNTAX, "unexpected `{0}`")
COMMENT_NOT_CLOSED: Final = Message(codes.EXPRESSION_SYNTAX, "unterminated comment")
UNICODE_ESCAPE_IN_NAME_UNSUPPORTED: Final = Message(
    codes.UNSUPPORTED_EXPRESSION, "unicode escapes in names are not supported"
)
INVALID_CHARACTER: Final = Message(codes.EXPRESSION_SYNTAX, "invalid character `{0}`")
NUMERIC_SEPARATOR_MISPLACED: Final = Message(
    codes.EXPRESSION_SYNTAX, "numeric separators must sit between digits"
)
NOT_ALLOWED_IN_STRICT_MODE: Final = Message(
    codes.EXPRESSION_SYNTAX, "{0} are not allowed in strict mode"
)
BIGINT_UNSUPPORTED: Final = Message(
    codes.UNSUPPORTED_EXPRESSION, "BigInt literals are not supported"
)
HINT__WRITE_A_PLAIN_NUMBER: Final = "write a plain number"
INVALID_OR_UNEXPECTED_TOKEN: Final = Message(
    codes.EXPRESSION_SYNTAX, "Invalid or unexpected token"
)
HINT__PUT_THE_NUMBER_IN: Final = "put the number in parentheses to call a method on it: `(1).x`"
BAD_HEX_ESCAPE: Final = Message(codes.EXPRESSION_SYNTAX, "Invalid hexadecimal escape sequence")
BAD_UNICODE_ESCAPE: Final = Message(codes.EXPRESSION_SYNTAX, "Invalid Unicode escape sequence")
HINT__CLOSE_THE_STRING_WITH_2: Final = "close the string with {0}"
TOKEN_EXPECTED_BEFORE_END: Final = Message(
    codes.EXPRESSION_SYNTAX, "expected `{0}` before the end of the expression"
)
TOKEN_EXPECTED: Final = Message(codes.EXPRESSION_SYNTAX, "expected `{0}`, found `{1}`")
EXPRESSION_EMPTY: Final = Message(codes.EXPRESSION_SYNTAX, "empty expression")
HINT__WRITE_AN_EXPRESSION_BETWEEN: Final = "write an expression between {{{{ and }}}}"
NULLISH_MIXED_WITH_LOGICAL: Final = Message(
    codes.EXPRESSION_SYNTAX, "cannot mix `??` with `&&` or `||` without parentheses"
)
HINT__ADD_PARENTHESES_TO_SAY: Final = "add parentheses to say which comes first"
OPERATOR_UNSUPPORTED: Final = Message(codes.UNSUPPORTED_EXPRESSION, "`{0}` is not supported")
UNARY_BEFORE_EXPONENT: Final = Message(
    codes.EXPRESSION_SYNTAX, "Unary operator used immediately before exponentiation expression"
)
HINT__ADD_PARENTHESES_A_B: Final = "add parentheses: `(-a) ** b` or `-(a ** b)`"
INVALID_ASSIGNMENT_TARGET: Final = Message(
    codes.EXPRESSION_SYNTAX, "Invalid left-hand side expression in prefix operation"
)
UPDATE_OPERATOR_UNSUPPORTED: Final = Message(
    codes.UNSUPPORTED_EXPRESSION, "`{0}` modifies a value and is not supported"
)
HINT__WRITE_X_1_OR: Final = "write `x + 1` or `x - 1`"
PRIVATE_NAME_UNSUPPORTED: Final = Message(
    codes.UNSUPPORTED_EXPRESSION, "private names are not supported"
)
PROPERTY_NAME_EXPECTED: Final = Message(
    codes.EXPRESSION_SYNTAX, "expected a property name after `.`"
)
PROPERTY_NAME_EXPECTED_AFTER: Final = Message(
    codes.EXPRESSION_SYNTAX, "expected a property name after `?.`"
)
TAGGED_TEMPLATE_UNSUPPORTED: Final = Message(
    codes.UNSUPPORTED_EXPRESSION, "tagged templates are not supported"
)
PARENTHESES_EMPTY: Final = Message(codes.EXPRESSION_SYNTAX, "empty parentheses")
REGEX_NOT_CLOSED: Final = Message(codes.EXPRESSION_SYNTAX, "invalid regular expression: missing /")
REGEX_FLAGS_INVALID: Final = Message(
    codes.EXPRESSION_SYNTAX, "invalid regular expression flags `{0}`"
)
REGEX_FEATURE_UNSUPPORTED: Final = Message(
    codes.UNSUPPORTED_EXPRESSION, "this regular expression uses {0}, which is not supported"
)
HINT__REGEX_FEATURES: Final = (
    "classes, groups (named too), quantifiers, anchors, \\d \\w \\s \\b and the flags g, i, m, s "
    "are supported"
)
RESERVED_WORD: Final = Message(
    codes.EXPRESSION_SYNTAX, "Unexpected strict mode reserved word `{0}`"
)
UNEXPECTED_TOKEN: Final = Message(codes.EXPRESSION_SYNTAX, "Unexpected token `{0}`")
NEW_ONLY_FOR_DATE: Final = Message(
    codes.UNSUPPORTED_EXPRESSION, "`new` is only supported as `new Date(...)`"
)
NEW_UNSUPPORTED: Final = Message(codes.UNSUPPORTED_EXPRESSION, "`new {0}` is not supported")
HINT__THE_ONLY_CONSTRUCTOR_AVAILABLE: Final = (
    "the only constructor available is `new Date()` / `new Date(value)`"
)
ARRAY_HOLE_UNSUPPORTED: Final = Message(
    codes.UNSUPPORTED_EXPRESSION, "holes in array literals are not supported"
)
HINT__WRITE_NULL_OR_UNDEFINED: Final = "write `null` or `undefined` explicitly"
COMPUTED_KEY_UNSUPPORTED: Final = Message(
    codes.UNSUPPORTED_EXPRESSION, "computed keys are not supported"
)
HINT__WRITE_THE_KEY_AS: Final = "write the key as a name or a string"
OBJECT_METHOD_UNSUPPORTED: Final = Message(
    codes.UNSUPPORTED_EXPRESSION, "methods in object literals are not supported"
)
PROTO_KEY_UNSUPPORTED: Final = Message(
    codes.UNSUPPORTED_EXPRESSION, "`__proto__` is not supported as a key"
)
TEMPLATE_NOT_CLOSED: Final = Message(codes.EXPRESSION_SYNTAX, "Unterminated template literal")
HINT__CLOSE_IT_WITH_A: Final = "close it with a backtick"
CLOSING_TOKEN_EXPECTED: Final = Message(codes.EXPRESSION_SYNTAX, "expected `}}` to close `${{`")

# compiler/expressions/translate.py
ONLY_CALLABLE_AS_METHOD: Final = Message(
    codes.UNSUPPORTED_EXPRESSION, "`{0}` can only be called or used as `{1}.<member>`"
)
HINT__CALL_IT_E_G: Final = "call it, e.g. `{0}(...)`"
ROOT_NOT_DEFINED: Final = Message(codes.UNKNOWN_ROOT, "`{0}` is not defined")
PROPERTY_BLOCKED: Final = Message(
    codes.UNSUPPORTED_EXPRESSION, "`{0}` is not available in expressions"
)
HINT__READ_DATA_FIELDS_ONLY: Final = "read data fields only"
METHOD_NOT_CALLED: Final = Message(
    codes.UNSUPPORTED_EXPRESSION, "`{0}` is a method; call it with `{1}(...)`"
)
HINT__FUNCTIONS_ARE_NOT_VALUES: Final = "functions are not values in expressions"
STEPS_NEEDS_NODE_ID: Final = Message(
    codes.UNKNOWN_STEP, "`$steps[...]` needs a node id written out"
)
HINT__WRITE_STEPS_NODE_ID: Final = "write `$steps.<node id>.output`"
TASK_OUTPUT_NOT_READ: Final = Message(
    codes.UNSUPPORTED_EXPRESSION, "read a task's output as `.tasks.<task id>.output`"
)
STEP_PROPERTY_UNKNOWN: Final = Message(codes.UNKNOWN_PROPERTY, "`$steps.{0}` has no `{1}`")
HINT__IT_HAS: Final = "it has: {0}"
TASK_NOT_DECLARED: Final = Message(codes.UNKNOWN_STEP, "node `{0}` has no task `{1}`")
HINT__ITS_TASKS: Final = "its tasks: {0}"
NEW_DATE_TOO_MANY_ARGUMENTS: Final = Message(
    codes.UNSUPPORTED_EXPRESSION, "`new Date` takes at most one argument here"
)
HINT__PASS_AN_ISO_8601: Final = "pass an ISO 8601 string or milliseconds"
OPTIONAL_CALL_UNSUPPORTED: Final = Message(
    codes.UNSUPPORTED_EXPRESSION, "optional calls `?.()` are not supported"
)
HINT__CALL_METHODS_DIRECTLY_A: Final = "call methods directly: `a?.b()`"
ONLY_BUILT_INS_CALLABLE: Final = Message(
    codes.UNSUPPORTED_EXPRESSION, "only built-in functions and methods can be called"
)
HINT__SEE_PYTHON_M_COMPILER: Final = (
    "see `python -m compiler explain unsupported-expression` for the list"
)
NOT_A_FUNCTION: Final = Message(codes.UNSUPPORTED_EXPRESSION, "`{0}` is not a function")
HINT__CALL_ONE_OF_ITS: Final = "call one of its methods, e.g. `Date.now()`"
NOT_CALLABLE: Final = Message(codes.UNSUPPORTED_EXPRESSION, "`{0}` cannot be called")
MATH_CONSTANT_CALLED: Final = Message(
    codes.UNSUPPORTED_EXPRESSION, "`Math.{0}` is a number, not a function"
)
HINT__WRITE_MATH_WITHOUT_PARENTHESES: Final = "write `Math.{0}` without parentheses"
MATH_FUNCTION_UNKNOWN: Final = Message(codes.UNKNOWN_METHOD, "`Math.{0}` is not supported")
HINT__DID_YOU_MEAN_MATH: Final = "did you mean `Math.{0}`?"
HINT__SUPPORTED_MATH: Final = "supported: Math.{0}"
JSON_FUNCTION_UNKNOWN: Final = Message(codes.UNKNOWN_METHOD, "`JSON.{0}` is not supported")
HINT__ONLY_JSON_STRINGIFY_VALUE: Final = (
    "only `JSON.stringify(value)` and `JSON.parse(text)` are available"
)
ERROR_STATUS_INVALID: Final = Message(
    codes.INVALID_PARAMETER, "`errorStatus` of node `{0}` must be an error status, 400 to 599"
)
HINT__ERROR_STATUS: Final = 'write e.g. `"errorStatus": 409`'
ERROR_CODE_INVALID: Final = Message(
    codes.INVALID_PARAMETER, "`errorCode` `{0}` of node `{1}` is not UPPER_SNAKE_CASE"
)
HINT__ERROR_CODE: Final = 'write e.g. `"errorCode": "ALREADY_PUBLISHED"`'
ARROW_FUNCTION_PLACE: Final = Message(
    codes.UNSUPPORTED_EXPRESSION, "an arrow function may only be the callback of an array method"
)
HINT__ARROW_FUNCTION_PLACE: Final = "pass it to one of: {0}"
CALLBACK_NOT_FIRST: Final = Message(
    codes.UNSUPPORTED_EXPRESSION, "the arrow function must be the method's first argument"
)
HINT__CALLBACK_FIRST: Final = "write e.g. `items.reduce((sum, x) => sum + x, 0)`"
ASSIGNMENT_TO_UNDECLARED: Final = Message(
    codes.UNSUPPORTED_EXPRESSION, "`{0}` is not a `let` of this function"
)
HINT__DECLARE_WITH_LET: Final = "declare it with `let {0} = ...;`"
CONST_ASSIGNED: Final = Message(
    codes.UNSUPPORTED_EXPRESSION, "`{0}` is a `const` and is assigned again"
)
ARROW_PARAMETER_REPEATED: Final = Message(
    codes.EXPRESSION_SYNTAX, "duplicate parameter name `{0}`"
)
DECLARATION_FORM: Final = Message(
    codes.UNSUPPORTED_EXPRESSION, "declare one name at a time: `const name = value;`"
)
HINT__DECLARATION: Final = "destructuring declarations are not supported; read each value"
CONST_WITHOUT_VALUE: Final = Message(
    codes.EXPRESSION_SYNTAX, "missing initializer in const declaration `{0}`"
)
STATEMENT_UNSUPPORTED: Final = Message(
    codes.UNSUPPORTED_EXPRESSION, "`{0}` statements are not supported in a function body"
)
HINT__STATEMENTS: Final = (
    "a function body may hold `const`/`let`, assignments, `if`/`else` and `return`; use "
    "array methods (map, filter, reduce...) instead of loops"
)
ASSIGNMENT_TARGET: Final = Message(codes.EXPRESSION_SYNTAX, "invalid left-hand side in assignment")
STATIC_FUNCTION_UNKNOWN: Final = Message(codes.UNKNOWN_METHOD, "`{0}.{1}` is not supported")
HINT__STATIC_FUNCTIONS: Final = "available: {0}"
LOCALE_UNSUPPORTED: Final = Message(
    codes.UNSUPPORTED_EXPRESSION, "`toLocaleString` formats as en-US only"
)
HINT__LOCALE_EN_US: Final = "write `toLocaleString('en-US')` (or no argument)"
JSON_STRINGIFY_EXTRA_ARGUMENTS: Final = Message(
    codes.UNSUPPORTED_EXPRESSION, "`JSON.stringify` takes one argument here"
)
HINT__REPLACERS_AND_INDENTATION_ARE: Final = "replacers and indentation are not supported"
DATE_FUNCTION_UNKNOWN: Final = Message(codes.UNKNOWN_METHOD, "`Date.{0}` is not supported")
HINT__USE_DATE_NOW_DATE: Final = "use `Date.now()`, `Date.parse(text)` or `new Date(value)`"
PRIMITIVE_HAS_NO_METHOD: Final = Message(
    codes.UNKNOWN_METHOD, "{0} values have no method `{1}` here"
)
HINT__CONVERT_FIRST_E_G: Final = "convert first, e.g. `String(x).{0}(...)`"
METHOD_UNKNOWN: Final = Message(codes.UNKNOWN_METHOD, "{0} has no supported method `{1}`")

# shared and computed hints
HINT__A_CONDITION_HAS_TWO_OUTPUTS: Final = (
    "a condition has two outputs: main[0] (true) and main[1] (false)"
)
HINT__HAS_ONE_OUTPUT_MAIN: Final = "{0} has one output, main[0]"
HINT__WRITE_METHOD_API_V1: Final = (
    "write `METHOD /api/v1/{{tenant}}/...` with METHOD one of GET, POST, PUT, PATCH, DELETE, or `SCHEDULED:every_<n>_seconds`"
)
HINT__WRITE_THE_METHOD_IN: Final = "write the method in capitals: `{0}`"
HINT__DID_YOU_MEAN_NAME: Final = "did you mean `{0}`?"
HINT__ALLOWED_KEYS: Final = "allowed keys: {0}"
HINT__LOOKS_LIKE_A_MISSPELLING: Final = "`{0}` looks like a misspelling of `{1}`"
HINT__ADD_KEY: Final = 'add `"{0}": ...`'
WHAT_OCTAL_LITERALS: Final = "Octal literals"
WHAT_DECIMALS_WITH_LEADING_ZEROS: Final = "Decimals with leading zeros"
HINT__EXPRESSIONS_READ_ROOTS: Final = (
    "expressions read $json (the input), $context (tenant, user, request) and $steps (outputs of earlier nodes)"
)
HINT__WRITE_CONTEXT_FIELD: Final = "write `$context.{0}`"
HINT__RECORD_HAS: Final = "{0} has: {1}"
HINT__BEFORE_NODE: Final = " before `{0}`"
STEP_NOT_ON_EVERY_PATH: Final = Message(
    codes.UNKNOWN_STEP, "node `{0}` does not run before this node on every path"
)
HINT__STEPS_READS_ONLY_NODES: Final = (
    "`$steps` reads only nodes that always run{0}; reorder the connections or read it later"
)
STEP_NOT_UPSTREAM: Final = Message(codes.UNKNOWN_STEP, "no node `{0}` upstream of this node")
HINT__UPSTREAM_NODES: Final = "upstream nodes: {0}"
HINT__SUPPORTED_METHODS: Final = "supported methods: {0}"
HINT__NO_NODE_RUNS_BEFORE: Final = "no node runs before this one"

# compiler/plan/tenancy.py and compiler/verify.py: compiler bugs, never the user's
OPERATION_WITHOUT_TENANT_BINDING: Final = Message(
    codes.INTERNAL_ERROR,
    "operation `{0}` of node `{1}` declares no tenant binding, so its tenant cannot be checked",
)
HINT__DECLARE_TENANT_ON_THE_OPERATION: Final = (
    "this is a bug in the compiler: the module of `{0}` must set `tenant=TenantBinding...`"
)
GENERATED_CODE_FAILS_VERIFICATION: Final = Message(
    codes.INTERNAL_ERROR, "generated code for node `{0}` {1}"
)
HINT__REPORT_THE_COMPILER_BUG: Final = (
    "this is a bug in the compiler, not in the workflow; please report it with this file"
)
GENERATED_CODE_FAILS_TYPECHECK: Final = Message(
    codes.INTERNAL_ERROR, "generated code for `{0}` does not type-check ({1}): {2}"
)

# compiler/expressions/parser.py and template.py, beside the table above
INVALID_PREFIX_TARGET: Final = Message(
    codes.EXPRESSION_SYNTAX, "Invalid left-hand side expression in prefix operation"
)
TEMPLATE_STRAY_CLOSE: Final = Message(
    codes.EXPRESSION_SYNTAX, "`}}}}` in the text closes no `{{{{` expression"
)
HINT__TEMPLATE_STRAY_CLOSE: Final = "remove the stray `}}`, or open the expression it ends"
TEMPLATE_EXPRESSION_NOT_CLOSED: Final = Message(codes.EXPRESSION_SYNTAX, "`{{{{` is never closed")
HINT__CLOSE_THE_EXPRESSION: Final = "close the expression with `}}`"

# labels of secondary locations
LABEL__FIRST: Final = "the first `{0}` is here"
LABEL__CLAIMED_FIRST: Final = "claimed first here"
HINT__FIX_THE_JSON_SYNTAX: Final = "fix the JSON syntax; the file must be valid JSON"

# compiler/expressions/parser.py: the nesting limits
EXPRESSION_TOO_DEEP: Final = Message(
    codes.EXPRESSION_TOO_DEEP,
    "expression nests too deeply: at most {0} levels of nested parentheses, brackets or"
    " operators, and a tree at most {1} deep",
)
HINT__SPLIT_THE_EXPRESSION: Final = (
    "split it: compute part of it in an earlier node and read that node's output"
)

# compiler/pipeline.py: the size limit
WORKFLOW_TOO_LARGE: Final = Message(
    codes.WORKFLOW_TOO_LARGE, "the workflow has {0} nodes; a workflow may have at most {1}"
)
HINT__SPLIT_THE_WORKFLOW: Final = "split it into several workflows"
SCHEDULE_TOO_FREQUENT: Final = Message(
    codes.INVALID_TRIGGER, "schedule `{0}` runs more often than every {1} ms"
)
HINT__SCHEDULE_AT_MOST_ONCE_A_SECOND: Final = "schedule runs at most once a second"
ROUTE_SHADOWED: Final = Message(
    codes.DUPLICATE_ROUTE,
    "route `{0} {1}` differs from `{0} {2}` of {3} only in parameter names: one would never run",
)

# compiler/dbal.py: DBAL YAML entities and MetaBuilder overlays
YAML_SYNTAX: Final = Message(codes.INVALID_YAML, "invalid YAML: {0}")
HINT__FIX_THE_YAML_SYNTAX: Final = "fix the YAML syntax (indentation, `key: value`, quoting)"
DBAL_ENTITY_NAME: Final = Message(
    codes.INVALID_ENTITY, "entity name `{0}` is not an UpperCamelCase identifier"
)
HINT__DBAL_ENTITY_NAME: Final = "name the entity like `StreamChannel`"
DBAL_UNKNOWN_KEY: Final = Message(codes.UNKNOWN_KEY, "unknown key `{0}` in entity {1}")
HINT__DBAL_KEYS: Final = "see the DBAL format in the README (MetaBuilder sources)"
DBAL_NO_FIELDS: Final = Message(codes.INVALID_ENTITY, "entity {0} declares no fields")
HINT__DBAL_FIELDS: Final = "declare `fields:` as a mapping of field name to `{type: ...}`"
DBAL_FIELD_NAME: Final = Message(
    codes.INVALID_ENTITY, "field name `{0}` of {1} is not an identifier"
)
HINT__DBAL_FIELD_NAME: Final = "use letters, digits and `_`, not starting with a digit"
DBAL_FIELD_NOT_MAPPING: Final = Message(
    codes.INVALID_ENTITY, "field `{0}` of {1} must be a mapping with a `type`"
)
DBAL_UNKNOWN_FIELD_KEY: Final = Message(codes.UNKNOWN_KEY, "unknown key `{0}` in field {1}.{2}")
DBAL_UNKNOWN_TYPE: Final = Message(
    codes.INVALID_ENTITY, "unknown type `{0}` for field `{1}` of {2}"
)
HINT__DBAL_TYPES: Final = (
    "use cuid, uuid, string, text, email, enum, integer, int, bigint, boolean or json"
)
DBAL_ENUM_WITHOUT_VALUES: Final = Message(
    codes.INVALID_ENTITY, "enum field `{0}` of {1} lists no `values`"
)
HINT__DBAL_ENUM_VALUES: Final = "list the allowed values: `values: [a, b]`"
DBAL_TWO_PRIMARY_KEYS: Final = Message(
    codes.INVALID_ENTITY, "entity {0} has two primary keys, `{1}` and `{2}`"
)
DBAL_NO_PRIMARY_KEY: Final = Message(
    codes.INVALID_ENTITY, "entity {0} has no primary key and no `id` field"
)
HINT__DBAL_ONE_PRIMARY_KEY: Final = "mark exactly one field `primary: true`"
DBAL_ENTITY_REDECLARED: Final = Message(
    codes.INVALID_ENTITY, "entity {0} is declared twice, differently"
)
DBAL_FIELD_REDECLARED: Final = Message(
    codes.INVALID_ENTITY, "field `{0}` of {1} is declared twice, differently"
)
HINT__DBAL_ONE_DECLARATION: Final = (
    "declare it once, or repeat it identically (overlays may repeat a declaration)"
)
OVERLAY_NOT_OBJECT: Final = Message(codes.SCHEMA_VIOLATION, "an overlay must be a JSON object")
OVERLAY_ROUTE_NOT_TEXT: Final = Message(
    codes.SCHEMA_VIOLATION, "the route of `{0}` must be a string"
)
OVERLAY_UNKNOWN_KEY: Final = Message(codes.UNKNOWN_KEY, "unknown key `{0}` in an overlay")
HINT__OVERLAY_SHAPE: Final = (
    'an overlay holds "routes" (stem: "METHOD /path", "SCHEDULED:<cron>" or "internal"), '
    '"env" (names) and "entities"'
)
MODULE_NAME_COLLIDES: Final = Message(
    codes.INVALID_NAME, "`{0}` and `{1}` would both become the module `{2}`"
)
HINT__RENAME_ONE_OF_THE_FILES: Final = "rename one of the files"
HINT__CHANNEL_OR_INTERNAL: Final = (
    "name the channel; only an internal workflow (route `internal`) may end with an event as "
    "its result"
)
RULES_NOT_OBJECT: Final = Message(
    codes.INVALID_PARAMETER, "`rules` of node `{0}` must map field names to rule strings"
)
HINT__RULES_SHAPE: Final = 'write "rules": {"email": "required|email", "name": "string"}'
RULE_UNKNOWN: Final = Message(
    codes.UNKNOWN_VALIDATOR, "cannot compile the rule `{0}` of field `{1}` in node `{2}`"
)
HINT__RULES: Final = "rules are {0}"
HINT__RULE_UNIQUE: Final = "write `unique:<Entity>`: the entity whose rows must not hold it"
HINT__RULE_NEEDS_NUMBER: Final = "write `{0}:<number>`"
HINT__RULE_NEEDS_FIELD: Final = "write `{0}:<other field>`"
HINT__RULE_REGEX: Final = "the pattern does not compile: {0}"
HEADERS_NOT_OBJECT: Final = Message(
    codes.INVALID_PARAMETER, "`headers` of node `{0}` must map header names to text"
)
HEADER_NAME_REFUSED: Final = Message(
    codes.INVALID_PARAMETER, "`{0}` cannot be a response header of node `{1}`"
)
HINT__HEADERS_SHAPE: Final = (
    'write "headers": {"Content-Type": "text/csv"}; names are HTTP tokens, and the server '
    "sets Content-Length, Transfer-Encoding and Connection itself"
)

# compiler/plan/binding.py: warnings about expressions
FALLBACK_ALWAYS_FALSY: Final = Message(
    codes.FALSY_FALLBACK,
    "`{0}` falls back to `{1}`, which is {2}: `||` binds looser than arithmetic, so `{1}` is "
    "computed first (node `{3}`)",
)
HINT__FALLBACK_PARENTHESES: Final = "parenthesize what the fallback is for: `{0}`"
ENV_NOT_ALLOWED: Final = Message(
    codes.UNKNOWN_ROOT, "`$env.{0}` is not an environment variable this package may read"
)
HINT__ENV_ALLOW: Final = (
    "list `{0}` in the overlay's `env` (or `env` under [tool.workflow-compiler] in "
    "pyproject.toml); allowed now: {1}"
)
ENV_COMPUTED: Final = Message(
    codes.UNSUPPORTED_EXPRESSION, "`$env` is read by a name written out, not a computed key"
)
HINT__ENV_NAME: Final = "write `$env.APP_URL`"
FILTER_KEYS_UNKNOWN: Final = Message(
    codes.INVALID_PARAMETER,
    "the filter of node `{0}` is an expression whose keys cannot be known before it runs",
)
HINT__FILTER_KEYS_UNKNOWN: Final = (
    "build the filter as an object in a transform (`$steps.build_filter.output`), or write "
    "its fields here; keys whose value is null or undefined are left out at run time"
)
GUARDS_CONTRADICT: Final = Message(
    codes.CONTRADICTORY_GUARDS,
    "guard `{0}` can never hold after guard `{1}`: {2}, so no request gets past both",
)
HINT__GUARDS_CONTRADICT: Final = (
    "to choose between two paths, connect the false branch (output 1) of `{0}` instead of "
    "chaining the guards"
)
LABEL__EARLIER_GUARD: Final = "the earlier guard"
COMPARES_UNDEFINED: Final = Message(
    codes.EXPRESSION_TYPE,
    "both sides of `{0}` can only be undefined, so it is always {1}",
)
HINT__COMPARES_UNDEFINED: Final = (
    "compare fields that exist: the names on both sides are misspelled or not produced "
    "upstream (an ownership check written this way lets everyone through)"
)


# compiler/nodes/effects, compiler/nodes/rate_limit.py, compiler/nodes/http_request.py
PARAMETER_OUT_OF_RANGE: Final = Message(
    codes.INVALID_PARAMETER, "`{0}` of node `{1}` must be a whole number from {2} to {3}"
)
HINT__WRITE_E_G: Final = "write e.g. `{0}`"
DURATION_INVALID: Final = Message(
    codes.INVALID_PARAMETER, "`{0}` of node `{1}` is not a duration: `{2}`"
)
HINT__DURATION: Final = (
    'write milliseconds (86400000) or a number and a unit: "90s", "30m", "24h", "7d"'
)
SELECTOR_UNKNOWN_FIELD: Final = Message(
    codes.INVALID_PARAMETER, "`{0}` is not a field `{1}` of node `{2}` returns"
)
HINT__SELECTOR: Final = "select among {0}"
SELECTOR_NOT_TRUE: Final = Message(
    codes.INVALID_PARAMETER, "field `{0}` of `output` of node `{1}` must be true"
)
HINT__SELECTOR_TRUE: Final = '`output` selects fields: list each wanted one as `"{0}": true`'
EFFECT_IN_TRANSACTION: Final = Message(
    codes.EFFECT_IN_TRANSACTION,
    "node `{0}` waits on a call outside the database after the workflow has written: the "
    "transaction (and on SQLite the write lock) is held across it",
)
HINT__MOVE_EFFECT_BEFORE_WRITES: Final = (
    "move the node before the first database write, so the runtime can end the read-only "
    "transaction before it"
)
JWT_SECRET_IGNORED: Final = Message(
    codes.JWT_SECRET_IGNORED,
    "node `{0}` signs with the runtime's own key and algorithm; its `secret` is not used",
)
HINT__JWT_SECRET: Final = (
    "remove `secret`: tokens are signed and verified with the runtime's JWT_SECRET (or "
    "JWT_PRIVATE_KEY), so a key in the workflow could neither leak nor drift"
)
MAIL_TEMPLATE_MISSING: Final = Message(
    codes.MAIL_TEMPLATE_MISSING,
    "node `{0}` names the template `{1}`; there is no templates/{1}.txt or templates/{1}.html "
    "beside the workflow or its package",
)
HINT__MAIL_TEMPLATE_MISSING: Final = (
    "add {0}; until then the message's text is its data, one `key: value` per line"
)
MAIL_TEMPLATE_SYNTAX: Final = Message(
    codes.INVALID_MAIL_TEMPLATE, "the template {0} of node `{1}` does not parse: {2}"
)
HINT__MAIL_TEMPLATE_SYNTAX: Final = (
    "templates are jinja2: `{{ name }}`, `{% if name %}...{% endif %}`"
)
MAIL_TEMPLATE_VARIABLE: Final = Message(
    codes.INVALID_MAIL_TEMPLATE,
    "the template {0} reads `{1}`, which the `data` of node `{2}` does not give",
)
HINT__MAIL_TEMPLATE_VARIABLE: Final = 'add `"{0}": ...` to `data`, or remove it from the template'
SENSITIVE_VALUE_LOGGED: Final = Message(
    codes.SENSITIVE_VALUE_LOGGED, "node `{0}` would write `{1}` to the log: {2}"
)
HINT__SENSITIVE_VALUE_LOGGED: Final = (
    "log something that identifies the event instead (a user id, a count); secrets never "
    "reach the log or the execution history"
)
LABEL__SENSITIVE: Final = "a secret is produced here"
MAIL_TEMPLATE_NAME: Final = Message(
    codes.INVALID_PARAMETER, "`{0}` is not a template name (node `{1}`)"
)
HINT__MAIL_TEMPLATE_NAME: Final = (
    "name a file of templates/ without its extension: letters, digits, `_`, `-` and `.`"
)
