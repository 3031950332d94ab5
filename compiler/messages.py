"""Every diagnostic's wording, in one place: message and hint templates by code.

Templates take positional ``str.format`` fields; the checks that report them fill them in.
Reviewing or rewording the compiler's messages means reading this file.
"""

from __future__ import annotations

from typing import Final

# compiler/load.py
JSON__UNEXPECTED_END_OF_FILE: Final = "unexpected end of file, expected a value"
JSON__STRINGS_MUST_USE_DOUBLE: Final = "strings must use double quotes"
HINT__WRITE_TEXT_NOT_TEXT: Final = "write \"text\", not 'text'"
JSON__UNEXPECTED_EXPECTED_A_VALUE: Final = "unexpected `{0}`, expected a value"
HINT__REMOVE_THE_TRAILING_COMMA: Final = "remove the trailing comma"
JSON__UNEXPECTED_EXPECTED_A_VALUE_2: Final = "unexpected {0}, expected a value"
JSON__VALUES_ARE_NESTED_MORE: Final = "values are nested more than {0} levels deep"
JSON__TRAILING_COMMA_BEFORE: Final = "trailing comma before `}}`"
HINT__REMOVE_THE_COMMA: Final = "remove the comma"
JSON__UNEXPECTED_EXPECTED_A_KEY: Final = "unexpected {0}, expected a key in double quotes"
HINT__OBJECT_KEYS_ARE_STRINGS: Final = "object keys are strings in double quotes"
DUPLICATE_KEY__DUPLICATE_KEY_IN_OBJECT: Final = "duplicate key `{0}` in object"
HINT__THE_FIRST_IS_AT: Final = "the first `{0}` is at line {1}; keep one"
JSON__UNEXPECTED_EXPECTED_AFTER_THE: Final = "unexpected {0}, expected `:` after the key"
JSON__UNEXPECTED_EXPECTED_OR: Final = "unexpected {0}, expected `,` or `}}`"
HINT__SEPARATE_MEMBERS_WITH_COMMAS: Final = "separate members with commas"
JSON__TRAILING_COMMA_BEFORE_2: Final = "trailing comma before `]`"
JSON__UNEXPECTED_EXPECTED_OR_2: Final = "unexpected {0}, expected `,` or `]`"
HINT__SEPARATE_ITEMS_WITH_COMMAS: Final = "separate items with commas"
JSON__UNTERMINATED_STRING: Final = "unterminated string"
HINT__CLOSE_THE_STRING_WITH: Final = 'close the string with `"`'
JSON__INVALID_U_ESCAPE_EXPECTED: Final = "invalid \\u escape, expected four hex digits"
JSON__INVALID_ESCAPE_IN_STRING: Final = "invalid escape `\\{0}` in string"
HINT__VALID_ESCAPES_ARE_B: Final = 'valid escapes are \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX'
JSON__CONTROL_CHARACTER_IN_STRING: Final = "control character in string"
HINT__WRITE_A_NEWLINE_AS: Final = "write a newline as \\n and a tab as \\t"
JSON__INVALID_NUMBER_STARTING_WITH: Final = "invalid number starting with {0}"
JSON__INVALID_NUMBER: Final = "invalid number `{0}{1}`"
JSON__NUMBER_IS_OUT_OF: Final = "number `{0}` is out of range"
JSON__UNEXPECTED_AFTER_THE_END: Final = "unexpected {0} after the end of the JSON value"
HINT__A_FILE_HOLDS_EXACTLY: Final = "a file holds exactly one JSON value"
UNREADABLE_FILE__CANNOT_READ_FILE: Final = "cannot read file: {0}"
HINT__CHECK_THAT_EXISTS_AND: Final = "check that {0} exists and is readable"
INVALID_JSON__THE_FILE_IS_NOT: Final = "the file is not valid UTF-8"
HINT__SAVE_THE_FILE_AS: Final = "save the file as UTF-8"

# compiler/schema.py
UNKNOWN_KEY__UNKNOWN_KEY_IN: Final = "unknown key `{0}` in {1}"
MISSING_KEY__IS_MISSING_THE_REQUIRED: Final = "{0} is missing the required key `{1}`"
WRONG_TYPE__MUST_BE_NOT: Final = "{0} must be {1}, not {2}"
HINT__WRITE_HERE: Final = "write {0} here"
SCHEMA_VIOLATION__MUST_BE_ONE_OF: Final = "{0} must be one of {1}"
HINT__DID_YOU_MEAN: Final = "did you mean {0}?"
HINT__USE_ONE_OF: Final = "use one of {0}"
SCHEMA_VIOLATION__HAS_AN_INVALID_FORM: Final = "{0} {1} has an invalid form"
HINT__IT_MUST_MATCH: Final = "it must match {0}"
SCHEMA_VIOLATION__TEXT: Final = "{0}: {1}"
HINT__SEE_COMPILER_SCHEMAS_FOR: Final = "see compiler/schemas/ for the file format"

# compiler/pipeline.py
INVALID_NAME__PACKAGE_FOLDER_IS_NOT: Final = "package folder `{0}` is not a valid Python name"
HINT__NAME_WORKFLOW_FOLDERS_WITH: Final = (
    "name workflow folders with letters, digits and underscores"
)
DUPLICATE_WORKFLOW_ID__WORKFLOW_ID_IS_ALSO: Final = "workflow id `{0}` is also used by {1}"
HINT__GIVE_EACH_WORKFLOW_ITS: Final = "give each workflow its own id"
DUPLICATE_ROUTE__ROUTE_IS_ALSO_CLAIMED: Final = "route `{0} {1}` is also claimed by {2}"
HINT__GIVE_EACH_WORKFLOW_ITS_OWN: Final = "give each workflow its own route"
MISSING_ENTITIES__PACKAGE_HAS_NO_ENTITIES: Final = "package `{0}` has no entities.json"
HINT__DECLARE_THE_PACKAGE_S: Final = "declare the package's entities in {0}"
INVALID_NAME__CANNOT_NAME_A_PYTHON: Final = "`{0}` cannot name a Python module"
HINT__NAME_WORKFLOW_FILES_WITH: Final = (
    "name workflow files with letters, digits and underscores (not entities/registry)"
)

# compiler/model.py
INVALID_ENTITY__DEFAULT_DOES_NOT_FIT: Final = "default {0} does not fit the {1} field `{2}.{3}`"
HINT__USE_A_VALUE_OF: Final = 'use a value of the field\'s type, or "uuid" / "now" to generate one'
INVALID_ENTITY__PRIMARY_KEY_IS_NOT: Final = "primary key `{0}` is not a field of {1}"
HINT__NAME_ONE_OF_THE: Final = "name one of the declared fields"
INVALID_ENTITY__IS_NOT_A_FIELD: Final = "`{0}` is not a field of {1}"
HINT__LIST_DECLARED_FIELDS_ONLY: Final = "list declared fields only"
INVALID_TRIGGER__CANNOT_READ_THE_SCHEDULE: Final = "cannot read the schedule `{0}`"
HINT__WRITE_SCHEDULED_EVERY_N: Final = (
    "write SCHEDULED:every_<n>_<seconds|minutes|hours|milliseconds>"
)
INVALID_TRIGGER__CANNOT_READ_THE_TRIGGER: Final = "cannot read the trigger `{0}`"
INVALID_TRIGGER__ROUTE_DOES_NOT_START: Final = (
    "route `{0}` does not start with `/api/v1/{{tenant}}/`"
)
HINT__EVERY_ROUTE_IS_TENANT: Final = (
    "every route is tenant-scoped: `/api/v1/{{tenant}}/<package>/<name>`"
)
INVALID_TRIGGER__ROUTE_HAS_AN_EMPTY: Final = "route `{0}` has an empty segment"
HINT__REMOVE_THE_DOUBLED_OR: Final = "remove the doubled or trailing `/`"
INVALID_TRIGGER__ROUTE_SEGMENT_IS_NOT: Final = (
    "route segment `{0}` is not a parameter like `{{name}}`"
)
HINT__A_PARAMETER_IS_A: Final = "a parameter is a whole segment: `/{{channelId}}/`"
INVALID_TRIGGER__ROUTE_PARAMETER_APPEARS_TWICE: Final = "route parameter `{0}` appears twice"
HINT__GIVE_EACH_PARAMETER_ITS: Final = "give each parameter its own name"
INVALID_TRIGGER__ROUTE_SEGMENT_HAS_CHARACTERS: Final = (
    "route segment `{0}` has characters a URL path cannot hold"
)
HINT__USE_LETTERS_DIGITS_AND: Final = "use letters, digits, `-`, `_` and `.`"
MISSING_PARAMETER__NODE_NEEDS_THE_PARAMETER: Final = "node `{0}` needs the parameter `{1}` ({2})"
HINT__ADD_TO_ITS_PARAMETERS: Final = 'add `"{0}": ...` to its parameters'
INVALID_PARAMETER__PARAMETER_OF_NODE_MUST: Final = "parameter `{0}` of node `{1}` must be a string"
HINT__WRITE_AS_A_STRING: Final = "write {0} as a string"
INVALID_PARAMETER__IS_NOT_A_VALID: Final = "`{0}` is not a valid `{1}` for node `{2}`"
HINT__USE_ONE_OF_2: Final = "use one of: {0}"
INVALID_PARAMETER__PARAMETER_OF_NODE_MUST_BE: Final = (
    "parameter `{0}` of node `{1}` must be an object"
)
HINT__WRITE_AS_FIELD_VALUE: Final = 'write {0} as {{"field": value}}'
INVALID_PARAMETER__PARAMETER_OF_NODE_MUST_BE_A: Final = (
    "parameter `{0}` of node `{1}` must be a whole number 0 or more"
)
HINT__WRITE_E_G_100: Final = 'write e.g. `"{0}": 100`'
INVALID_PARAMETER__OF_NODE_HAS_NO: Final = "{0} of node `{1}` has no key `{2}`"
HINT__IT_TAKES: Final = "it takes: {0}"
MISSING_PARAMETER__NODE_RUNS_BUT_HAS: Final = "node `{0}` runs {1} but has no `data`"
HINT__ADD_DATA_FIELD_VALUE: Final = 'add `"data": {{"field": value, ...}}`'
TENANT_FILTER_MISSING__NODE_RUNS_WITHOUT_A: Final = (
    "node `{0}` runs {1} without a filter; it must filter on tenantId"
)
HINT__ADD_FILTER_TENANTID_CONTEXT: Final = (
    'add `"filter": {{"tenantId": "{{{{ $context.tenantId }}}}"}}`'
)
INVALID_PARAMETER__NODE_CREATES_A_ROW: Final = (
    "node `{0}` creates a row; `filter` has no meaning here"
)
HINT__REMOVE_FILTER_THE_ROW: Final = "remove `filter`; the row is written from `data`"
INVALID_PARAMETER__NODE_RUNS_DATA_HAS: Final = "node `{0}` runs {1}; `data` has no meaning here"
HINT__REMOVE_DATA: Final = "remove `data`"
UNKNOWN_NODE_TYPE__NODE_HAS_THE_UNKNOWN: Final = "node `{0}` has the unknown type `{1}`"
HINT__SUPPORTED_TYPES: Final = "supported types: {0}"
UNSUPPORTED_TYPE_VERSION__NODE_HAS_NO_TYPEVERSION: Final = "node `{0}`: {1} has no typeVersion {2}"
HINT__SUPPORTED: Final = "supported: {0}"
UNKNOWN_VALIDATOR__UNKNOWN_VALIDATOR_IN_NODE: Final = "unknown validator `{0}` in node `{1}`"
HINT__VALIDATORS: Final = "validators: {0}"
INVALID_PARAMETER__STATUS_OF_NODE_MUST: Final = (
    "`status` of node `{0}` must be an HTTP status code"
)
HINT__WRITE_E_G_STATUS: Final = 'write e.g. `"status": 200`'
INVALID_PARAMETER__TASKS_OF_NODE_MUST: Final = "`tasks` of node `{0}` must be a non-empty list"
HINT__LIST_THE_TASKS_AS: Final = "list the tasks as objects with id, op, entity"
INVALID_PARAMETER__EACH_TASK_OF_NODE: Final = "each task of node `{0}` must be an object"
HINT__WRITE_ID_OP_ENTITY: Final = 'write {{"id": ..., "op": ..., "entity": ...}}'
INVALID_PARAMETER__NODE_HAS_TWO_TASKS: Final = "node `{0}` has two tasks named `{1}`"
HINT__GIVE_EACH_TASK_ITS: Final = "give each task its own id"
DUPLICATE_NODE_ID__TWO_NODES_HAVE_THE: Final = "two nodes have the id `{0}`"
HINT__THE_FIRST_IS_AT_LINE: Final = "the first is at line {0}; rename one"
UNKNOWN_STATIC_DATA__STATICDATA_KEY_HAS_NO: Final = "staticData key `{0}` has no effect"
HINT__KNOWN_KEYS: Final = "known keys: {0}"
INVALID_PARAMETER__STATICDATA_MUST_BE_A: Final = "staticData `{0}` must be a positive whole number"
HINT__TEXT: Final = "{0}: {1}"

# compiler/graph.py
NO_NODES__WORKFLOW_HAS_NO_NODES: Final = "workflow `{0}` has no nodes"
HINT__ADD_AT_LEAST_ONE: Final = "add at least one node to `nodes`"
UNKNOWN_CONNECTION_SOURCE__CONNECTIONS_NAMES_WHICH_IS: Final = (
    "connections names `{0}`, which is not a node"
)
HINT__NODE_IDS: Final = "node ids: {0}"
INVALID_BRANCH__NODE_HAS_NO_OUTPUT: Final = "node `{0}` has no output main[{1}]"
DANGLING_CONNECTION__NODE_CONNECTS_TO_WHICH: Final = (
    "node `{0}` connects to `{1}`, which does not exist"
)
HINT__CONNECT_TO_ONE_OF: Final = "connect to one of: {0}"
INVALID_BRANCH__NODE_HAS_ONE_INPUT: Final = "node `{0}` has one input; index {1} does not exist"
HINT__USE_INDEX_0: Final = 'use `"index": 0`'
CYCLE__CONNECTIONS_FORM_A_CYCLE: Final = "connections form a cycle: {0}"
HINT__REMOVE_THE_CONNECTION_FROM: Final = (
    "remove the connection from `{0}` to `{1}`; workflows run top to bottom once"
)
CYCLE__EVERY_NODE_HAS_AN: Final = (
    "every node has an incoming connection, so none can start the workflow"
)
HINT__THE_FIRST_NODE_MUST: Final = "the first node must not be the target of a connection"
SEVERAL_ROOTS__NODE_HAS_NO_INCOMING: Final = (
    "node `{0}` has no incoming connection, but `{1}` already starts the workflow"
)
HINT__CONNECT_FROM_THE_NODE: Final = (
    "connect `{0}` from the node that should run before it, or delete it"
)
FAN_IN__NODE_IS_REACHED_FROM: Final = "node `{0}` is reached from several nodes ({1})"
HINT__A_NODE_RUNS_AFTER: Final = (
    "a node runs after exactly one other node; duplicate the node for each path"
)
UNREACHABLE_NODE__NODE_CAN_NEVER_RUN: Final = (
    "node `{0}` can never run: no path leads to it from `{1}`"
)
HINT__CONNECT_IT_FROM_A: Final = "connect it from a node reachable from `{0}`, or delete it"

# compiler/plan.py
TENANT_DATA_MISSING__CREATES_A_ROW_WITHOUT: Final = "{0} creates a row without writing tenantId"
HINT__ADD_TO_DATA: Final = "add {0} to `data`"
TENANT_DATA_NOT_CONTEXT__WRITES_TENANTID_FROM_SOMETHING: Final = (
    "{0} writes tenantId from something other than $context.tenantId"
)
HINT__WRITE: Final = "write {0}"
TENANT_FILTER_MISSING__OF_DOES_NOT_FILTER: Final = "{0} ({1} of {2}) does not filter on tenantId"
HINT__ADD_TO_FILTER_WITHOUT: Final = (
    "add {0} to `filter`; without it the operation reaches every tenant's rows"
)
TENANT_FILTER_NOT_CONTEXT__FILTERS_TENANTID_ON_SOMETHING: Final = (
    "{0} filters tenantId on something other than exactly $context.tenantId"
)
HINT__WRITE_THE_TENANT_COMES: Final = (
    "write {0}; the tenant comes from the authenticated request, never from input"
)
TENANT_DATA_NOT_CONTEXT__WOULD_MOVE_ROWS_TO: Final = "{0} would move rows to another tenant"
HINT__REMOVE_TENANTID_FROM_DATA: Final = "remove tenantId from `data`"
UNKNOWN_ENTITY__ENTITY_IS_NOT_DECLARED: Final = "entity `{0}` is not declared in entities.json"
HINT__DECLARED: Final = "declared: {0}"
UNKNOWN_FIELD__HAS_NO_FIELD: Final = "{0} has no field `{1}`"
HINT__FIELDS: Final = "fields: {0}"
WORKFLOW_TENANT__THE_WORKFLOW_S_TENANTID: Final = (
    "the workflow's tenantId is not {{{{ $context.tenantId }}}}"
)
HINT__WRITE_TENANTID_CONTEXT_TENANTID: Final = 'write "tenantId": "{{{{ $context.tenantId }}}}"'
UNUSED_INPUT__META_INPUTS_NAMES_WHICH: Final = "meta.inputs names `{0}`, which no node reads"
HINT__REMOVE_IT_OR_READ: Final = "remove it, or read it as `$json.{0}`"
HINT__META_INPUTS_LISTS_INPUT: Final = "meta.inputs lists input fields; this entry is not one"
EXPRESSION_TYPE__IS_A_FIELD_BUT: Final = "{0}.{1} is a {2} field, but this value is {3}"
HINT__GIVE_A_VALUE: Final = "give a {0} value{1}"
MISSING_PARAMETER__NODE_CREATES_WITHOUT_WHICH: Final = (
    "node `{0}` creates {1} without `{2}`, which has no default"
)
HINT__ADD_TO_DATA_2: Final = "add `{0}` to `data`"

# compiler/warnings.py
INACTIVE_WORKFLOW__WORKFLOW_IS_INACTIVE_ACTIVE: Final = (
    'workflow `{0}` is inactive ("active": false)'
)
HINT__IT_IS_COMPILED_AND: Final = (
    "it is compiled and checked but served only with `--include-inactive`"
)
SCHEDULE_DISAGREEMENT__THE_SCHEDULE_IS_GIVEN: Final = (
    "the schedule is given three ways that disagree: {0}"
)
HINT__THE_RUNTIME_RUNS_IT: Final = (
    "the runtime runs it {0} (updateInterval); make the others agree"
)
UNAUTHENTICATED_ROUTE__NEVER_CHECKS_THE_USER: Final = (
    "`{0} {1}` never checks the user: anyone who knows the tenant can call it"
)
HINT__ADD_A_VALIDATE_NODE: Final = (
    "add a validate node on `{{{{ $context.user.id }}}}` if only signed-in users may call it"
)

# compiler/expressions/parser.py
EXPR_SYNTAX__UNEXPECTED_END_OF_EXPRESSION: Final = "unexpected end of expression"
EXPR_UNSUPPORTED__ASSIGNMENT_IS_NOT_SUPPORTED: Final = "assignment `{0}` is not supported"
HINT__EXPRESSIONS_ONLY_COMPUTE_VALUES: Final = (
    "expressions only compute values; did you mean `===`?"
)
EXPR_UNSUPPORTED__ARROW_FUNCTIONS_ARE_NOT: Final = "arrow functions are not supported"
HINT__COMPUTE_THE_VALUE_DIRECTLY: Final = (
    "compute the value directly; loops over items are written as nodes"
)
EXPR_UNSUPPORTED__BITWISE_OPERATOR_IS_NOT: Final = "bitwise operator `{0}` is not supported"
HINT__USE_AND_FOR_LOGIC: Final = "use && and || for logic, Math.* for arithmetic"
EXPR_UNSUPPORTED__THE_COMMA_OPERATOR_IS: Final = "the comma operator is not supported"
HINT__AN_EXPRESSION_COMPUTES_ONE: Final = (
    "an expression computes one value; use an array `[a, b]` for several"
)
EXPR_UNSUPPORTED__SPREAD_IS_NOT_SUPPORTED: Final = "spread `...` is not supported"
EXPR_SYNTAX__UNEXPECTED: Final = "unexpected `{0}`"
EXPR_SYNTAX__UNTERMINATED_COMMENT: Final = "unterminated comment"
EXPR_UNSUPPORTED__UNICODE_ESCAPES_IN_NAMES: Final = "unicode escapes in names are not supported"
EXPR_SYNTAX__INVALID_CHARACTER: Final = "invalid character `{0}`"
EXPR_SYNTAX__NUMERIC_SEPARATORS_MUST_SIT: Final = "numeric separators must sit between digits"
EXPR_SYNTAX__ARE_NOT_ALLOWED_IN: Final = "{0} are not allowed in strict mode"
EXPR_UNSUPPORTED__BIGINT_LITERALS_ARE_NOT: Final = "BigInt literals are not supported"
HINT__WRITE_A_PLAIN_NUMBER: Final = "write a plain number"
EXPR_SYNTAX__INVALID_OR_UNEXPECTED_TOKEN: Final = "Invalid or unexpected token"
HINT__PUT_THE_NUMBER_IN: Final = "put the number in parentheses to call a method on it: `(1).x`"
EXPR_SYNTAX__INVALID_HEXADECIMAL_ESCAPE_SEQUENCE: Final = "Invalid hexadecimal escape sequence"
EXPR_SYNTAX__INVALID_UNICODE_ESCAPE_SEQUENCE: Final = "Invalid Unicode escape sequence"
HINT__CLOSE_THE_STRING_WITH_2: Final = "close the string with {0}"
EXPR_SYNTAX__EXPECTED_BEFORE_THE_END: Final = "expected `{0}` before the end of the expression"
EXPR_SYNTAX__EXPECTED_FOUND: Final = "expected `{0}`, found `{1}`"
EXPR_SYNTAX__EMPTY_EXPRESSION: Final = "empty expression"
HINT__WRITE_AN_EXPRESSION_BETWEEN: Final = "write an expression between {{{{ and }}}}"
EXPR_SYNTAX__CANNOT_MIX_WITH_OR: Final = "cannot mix `??` with `&&` or `||` without parentheses"
HINT__ADD_PARENTHESES_TO_SAY: Final = "add parentheses to say which comes first"
EXPR_UNSUPPORTED__IS_NOT_SUPPORTED: Final = "`{0}` is not supported"
EXPR_SYNTAX__UNARY_OPERATOR_USED_IMMEDIATELY: Final = (
    "Unary operator used immediately before exponentiation expression"
)
HINT__ADD_PARENTHESES_A_B: Final = "add parentheses: `(-a) ** b` or `-(a ** b)`"
EXPR_SYNTAX__INVALID_LEFT_HAND_SIDE: Final = (
    "Invalid left-hand side expression in prefix operation"
)
EXPR_UNSUPPORTED__MODIFIES_A_VALUE_AND: Final = "`{0}` modifies a value and is not supported"
HINT__WRITE_X_1_OR: Final = "write `x + 1` or `x - 1`"
EXPR_UNSUPPORTED__PRIVATE_NAMES_ARE_NOT: Final = "private names are not supported"
EXPR_SYNTAX__EXPECTED_A_PROPERTY_NAME: Final = "expected a property name after `.`"
EXPR_SYNTAX__EXPECTED_A_PROPERTY_NAME_AFTER: Final = "expected a property name after `?.`"
EXPR_UNSUPPORTED__TAGGED_TEMPLATES_ARE_NOT: Final = "tagged templates are not supported"
EXPR_SYNTAX__EMPTY_PARENTHESES: Final = "empty parentheses"
EXPR_UNSUPPORTED__REGULAR_EXPRESSIONS_ARE_NOT: Final = "regular expressions are not supported"
HINT__USE_INCLUDES_STARTSWITH_OR: Final = "use .includes(), .startsWith() or .endsWith()"
EXPR_SYNTAX__UNEXPECTED_STRICT_MODE_RESERVED: Final = "Unexpected strict mode reserved word `{0}`"
EXPR_SYNTAX__UNEXPECTED_TOKEN: Final = "Unexpected token `{0}`"
EXPR_UNSUPPORTED__NEW_IS_ONLY_SUPPORTED: Final = "`new` is only supported as `new Date(...)`"
EXPR_UNSUPPORTED__NEW_IS_NOT_SUPPORTED: Final = "`new {0}` is not supported"
HINT__THE_ONLY_CONSTRUCTOR_AVAILABLE: Final = (
    "the only constructor available is `new Date()` / `new Date(value)`"
)
EXPR_UNSUPPORTED__HOLES_IN_ARRAY_LITERALS: Final = "holes in array literals are not supported"
HINT__WRITE_NULL_OR_UNDEFINED: Final = "write `null` or `undefined` explicitly"
EXPR_UNSUPPORTED__COMPUTED_KEYS_ARE_NOT: Final = "computed keys are not supported"
HINT__WRITE_THE_KEY_AS: Final = "write the key as a name or a string"
EXPR_UNSUPPORTED__METHODS_IN_OBJECT_LITERALS: Final = (
    "methods in object literals are not supported"
)
EXPR_UNSUPPORTED__SHORTHAND_PROPERTY_IS_NOT: Final = "shorthand property `{0}` is not supported"
HINT__WRITE_VALUE: Final = "write `{0}: value`"
EXPR_UNSUPPORTED__PROTO_IS_NOT_SUPPORTED: Final = "`__proto__` is not supported as a key"
EXPR_SYNTAX__UNTERMINATED_TEMPLATE_LITERAL: Final = "Unterminated template literal"
HINT__CLOSE_IT_WITH_A: Final = "close it with a backtick"
EXPR_SYNTAX__EXPECTED_TO_CLOSE: Final = "expected `}}` to close `${{`"

# compiler/expressions/translate.py
UNSUPPORTED_EXPRESSION__CAN_ONLY_BE_CALLED: Final = (
    "`{0}` can only be called or used as `{1}.<member>`"
)
HINT__CALL_IT_E_G: Final = "call it, e.g. `{0}(...)`"
UNKNOWN_ROOT__IS_NOT_DEFINED: Final = "`{0}` is not defined"
UNSUPPORTED_EXPRESSION__IS_NOT_AVAILABLE_IN: Final = "`{0}` is not available in expressions"
HINT__READ_DATA_FIELDS_ONLY: Final = "read data fields only"
UNSUPPORTED_EXPRESSION__IS_A_METHOD_CALL: Final = "`{0}` is a method; call it with `{1}(...)`"
HINT__FUNCTIONS_ARE_NOT_VALUES: Final = "functions are not values in expressions"
UNKNOWN_STEP__STEPS_NEEDS_A_NODE: Final = "`$steps[...]` needs a node id written out"
HINT__WRITE_STEPS_NODE_ID: Final = "write `$steps.<node id>.output`"
UNSUPPORTED_EXPRESSION__READ_A_TASK_S: Final = "read a task's output as `.tasks.<task id>.output`"
UNKNOWN_PROPERTY__STEPS_HAS_NO: Final = "`$steps.{0}` has no `{1}`"
HINT__IT_HAS: Final = "it has: {0}"
UNKNOWN_STEP__NODE_HAS_NO_TASK: Final = "node `{0}` has no task `{1}`"
HINT__ITS_TASKS: Final = "its tasks: {0}"
UNSUPPORTED_EXPRESSION__NEW_DATE_TAKES_AT: Final = "`new Date` takes at most one argument here"
HINT__PASS_AN_ISO_8601: Final = "pass an ISO 8601 string or milliseconds"
UNSUPPORTED_EXPRESSION__OPTIONAL_CALLS_ARE_NOT: Final = "optional calls `?.()` are not supported"
HINT__CALL_METHODS_DIRECTLY_A: Final = "call methods directly: `a?.b()`"
UNSUPPORTED_EXPRESSION__ONLY_BUILT_IN_FUNCTIONS: Final = (
    "only built-in functions and methods can be called"
)
HINT__SEE_PYTHON_M_COMPILER: Final = (
    "see `python -m compiler explain unsupported-expression` for the list"
)
UNSUPPORTED_EXPRESSION__IS_NOT_A_FUNCTION: Final = "`{0}` is not a function"
HINT__CALL_ONE_OF_ITS: Final = "call one of its methods, e.g. `Date.now()`"
UNSUPPORTED_EXPRESSION__CANNOT_BE_CALLED: Final = "`{0}` cannot be called"
UNSUPPORTED_EXPRESSION__MATH_IS_A_NUMBER: Final = "`Math.{0}` is a number, not a function"
HINT__WRITE_MATH_WITHOUT_PARENTHESES: Final = "write `Math.{0}` without parentheses"
UNKNOWN_METHOD__MATH_IS_NOT_SUPPORTED: Final = "`Math.{0}` is not supported"
HINT__DID_YOU_MEAN_MATH: Final = "did you mean `Math.{0}`?"
HINT__SUPPORTED_MATH: Final = "supported: Math.{0}"
UNKNOWN_METHOD__JSON_IS_NOT_SUPPORTED: Final = "`JSON.{0}` is not supported"
HINT__ONLY_JSON_STRINGIFY_VALUE: Final = "only `JSON.stringify(value)` is available"
UNSUPPORTED_EXPRESSION__JSON_STRINGIFY_TAKES_ONE: Final = (
    "`JSON.stringify` takes one argument here"
)
HINT__REPLACERS_AND_INDENTATION_ARE: Final = "replacers and indentation are not supported"
UNKNOWN_METHOD__DATE_IS_NOT_SUPPORTED: Final = "`Date.{0}` is not supported"
HINT__USE_DATE_NOW_DATE: Final = "use `Date.now()`, `Date.parse(text)` or `new Date(value)`"
UNKNOWN_METHOD__VALUES_HAVE_NO_METHOD: Final = "{0} values have no method `{1}` here"
HINT__CONVERT_FIRST_E_G: Final = "convert first, e.g. `String(x).{0}(...)`"
UNKNOWN_METHOD__HAS_NO_SUPPORTED_METHOD: Final = "{0} has no supported method `{1}`"

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
EXPR_SYNTAX__OCTAL_LITERALS: Final = "Octal literals"
EXPR_SYNTAX__DECIMALS_WITH_LEADING_ZEROS: Final = "Decimals with leading zeros"
HINT__EXPRESSIONS_READ_ROOTS: Final = (
    "expressions read $json (the input), $context (tenant, user, request) and $steps (outputs of earlier nodes)"
)
HINT__WRITE_CONTEXT_FIELD: Final = "write `$context.{0}`"
HINT__RECORD_HAS: Final = "{0} has: {1}"
HINT__BEFORE_NODE: Final = " before `{0}`"
UNKNOWN_STEP__NOT_ON_EVERY_PATH: Final = "node `{0}` does not run before this node on every path"
HINT__STEPS_READS_ONLY_NODES: Final = (
    "`$steps` reads only nodes that always run{0}; reorder the connections or read it later"
)
UNKNOWN_STEP__NO_NODE_UPSTREAM: Final = "no node `{0}` upstream of this node"
HINT__UPSTREAM_NODES: Final = "upstream nodes: {0}"
HINT__SUPPORTED_METHODS: Final = "supported methods: {0}"
HINT__NO_NODE_RUNS_BEFORE: Final = "no node runs before this one"

# compiler/plan/tenancy.py and compiler/verify.py: compiler bugs, never the user's
INTERNAL_ERROR__OPERATION_DECLARES_NO_TENANT: Final = (
    "operation `{0}` of node `{1}` declares no tenant binding, so its tenant cannot be checked"
)
HINT__DECLARE_TENANT_ON_THE_OPERATION: Final = (
    "this is a bug in the compiler: the module of `{0}` must set `tenant=TenantBinding...`"
)
INTERNAL_ERROR__GENERATED_CODE_FAILS_CHECK: Final = "generated code for node `{0}` {1}"
HINT__REPORT_THE_COMPILER_BUG: Final = (
    "this is a bug in the compiler, not in the workflow; please report it with this file"
)
INTERNAL_ERROR__GENERATED_CODE_FAILS_TYPECHECK: Final = (
    "generated code for `{0}` does not type-check ({1}): {2}"
)
