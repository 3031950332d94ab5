"""Errors a workflow answers with: each becomes ``{"error": message, "code": CODE, ...}``."""

from __future__ import annotations


class WorkflowError(Exception):
    status = 400
    code = "BAD_REQUEST"
    headers: dict[str, str] = {}  # response headers of the answer (429's Retry-After)

    def __init__(self, message: str, code: str | None = None, **details: object) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details

    def body(self) -> dict[str, object]:
        return {"error": self.message, "code": self.code, **self.details}


class ValidationFailed(WorkflowError):
    status = 400
    code = "VALIDATION_FAILED"


class AuthRequired(WorkflowError):
    status = 401
    code = "AUTH_REQUIRED"


class Forbidden(WorkflowError):
    status = 403
    code = "FORBIDDEN"


class Refused(WorkflowError):
    """A guard condition that does not hold: the status and code the compiler derived from
    what it tests (or the node's ``errorStatus``/``errorCode``)."""

    def __init__(self, message: str, code: str, status: int, **details: object) -> None:
        super().__init__(message, code, **details)
        self.status = status


class NotFound(WorkflowError):
    status = 404
    code = "NOT_FOUND"


class Conflict(WorkflowError):
    status = 409
    code = "CONFLICT"


class PayloadTooLarge(WorkflowError):
    status = 413
    code = "PAYLOAD_TOO_LARGE"


class UnsupportedMediaType(WorkflowError):
    status = 415
    code = "UNSUPPORTED_MEDIA_TYPE"


class TooManyStreams(WorkflowError):
    status = 429
    code = "TOO_MANY_STREAMS"


class RateLimited(WorkflowError):
    """A ``metabuilder.rateLimit`` node's window is used up: 429 with ``Retry-After``."""

    status = 429
    code = "RATE_LIMITED"

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message, retryAfter=retry_after_s)
        self.headers = {"Retry-After": str(retry_after_s)}


class BadGateway(WorkflowError):
    """An outbound call failed (no answer, a refused destination's network error)."""

    status = 502
    code = "UPSTREAM_FAILED"


class GatewayTimeout(WorkflowError):
    status = 504
    code = "UPSTREAM_TIMEOUT"


class RequestTimeout(WorkflowError):
    status = 408
    code = "BODY_TIMEOUT"


class InvalidJson(WorkflowError):
    status = 400
    code = "INVALID_JSON"


class InvalidToken(WorkflowError):
    status = 401
    code = "INVALID_TOKEN"


class ServiceUnavailable(WorkflowError):
    status = 503
    code = "DATABASE_UNAVAILABLE"


class ExecutionTimeout(WorkflowError):
    status = 504
    code = "EXECUTION_TIMEOUT"


class WorkflowFailed(WorkflowError):
    """The workflow itself failed (an expression threw, a bug): not the caller's fault."""

    status = 500
    code = "WORKFLOW_FAILED"


def insufficient_level(required: int, user_level: object) -> Forbidden:
    return Forbidden(
        "Insufficient permissions",
        "AUTH_INSUFFICIENT_LEVEL",
        requiredLevel=required,
        userLevel=user_level,
    )


def missing_scope(scope: str) -> Forbidden:
    return Forbidden(
        f"The token lacks the scope `{scope}`", "AUTH_MISSING_SCOPE", requiredScope=scope
    )
