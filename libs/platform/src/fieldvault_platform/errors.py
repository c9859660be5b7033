"""Domain errors raised by service layers.

Service code raises these; exactly one place (the gRPC error interceptor) maps
them to status codes, and the gateway maps status codes to problem+json. The
message of a domain error is shown to callers, so it must never contain a
secret value, token or password: say *what* is wrong, not the value.
"""

from __future__ import annotations

import grpc

#: gRPC trailing metadata key carrying a domain error's stable machine code;
#: the services' error interceptor sets it, the gateway reads it.
ERROR_CODE_KEY = "fieldvault-error-code"
#: Trailing metadata key: whole seconds a throttled or unavailable caller should wait
#: (the gateway's ``Retry-After``).
RETRY_AFTER_KEY = "fieldvault-retry-after"
#: Prefix of trailing metadata keys carrying a domain error's extension members (RFC 9457
#: §3.2), e.g. ``fieldvault-problem-instructions_version``; the gateway passes on only
#: the members it knows.
PROBLEM_MEMBER_PREFIX = "fieldvault-problem-"


class DomainError(Exception):
    """Base class: a failure the caller can understand and act on."""

    status: grpc.StatusCode = grpc.StatusCode.UNKNOWN
    #: Stable machine-readable code that the gateway exposes as problem+json ``code``.
    code: str = "error"
    #: When set, callers are told to retry after this many seconds.
    retry_after_seconds: int | None = None
    #: Extension members for the caller's problem body: machine facts only, never a secret.
    problem_members: dict[str, str] | None = None

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class InvalidArgument(DomainError):
    status = grpc.StatusCode.INVALID_ARGUMENT
    code = "invalid_argument"


class NotFound(DomainError):
    status = grpc.StatusCode.NOT_FOUND
    code = "not_found"


class AlreadyExists(DomainError):
    status = grpc.StatusCode.ALREADY_EXISTS
    code = "already_exists"


class FailedPrecondition(DomainError):
    status = grpc.StatusCode.FAILED_PRECONDITION
    code = "failed_precondition"


class PermissionDenied(DomainError):
    status = grpc.StatusCode.PERMISSION_DENIED
    code = "permission_denied"


class Unauthenticated(DomainError):
    status = grpc.StatusCode.UNAUTHENTICATED
    code = "unauthenticated"


class ResourceExhausted(DomainError):
    """The caller used up a limit; ``retry_after_seconds`` says when to try again."""

    status = grpc.StatusCode.RESOURCE_EXHAUSTED
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class Unavailable(DomainError):
    """A dependency (Vault, NATS, the database, another service) cannot be reached."""

    status = grpc.StatusCode.UNAVAILABLE
    code = "unavailable"
