"""Typed errors for Nexus failures (hand-written).

Nexus attaches a google.rpc.ErrorInfo (reason "ERROR_REASON_<X>", domain "nexus") to every
error; ``from_rpc_error`` turns a ``grpc.RpcError`` (unary call or server stream, sync or
asyncio) into the matching ``NexusError`` subclass, and ``from_proxy_response`` does the same
for the proxy's answers (the ``Nexus-Error`` header and its JSON body). ``NexusError`` is
itself a ``grpc.RpcError``, so existing handlers keep working.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Mapping, NamedTuple, Optional, Sequence, Tuple, Type

import grpc
from google.rpc import error_details_pb2, status_pb2  # type: ignore[import-untyped, unused-ignore]

from nexus.v1 import connection_pb2

_STATUS_DETAILS_KEY = "grpc-status-details-bin"


class Violation(NamedTuple):
    """One rejected field of a request (google.rpc.BadRequest.FieldViolation): ``field`` is
    its path (for example ``"credentials.api_key"``), ``description`` why it was rejected."""

    field: str
    description: str


class NexusError(grpc.RpcError):
    """An error Nexus answered with, or a network failure reaching it.

    ``status_code`` is the gRPC status code; ``reason`` is the ErrorReason without its
    ``ERROR_REASON_`` prefix (for example ``"CONNECTION_NOT_FOUND"``), ``""`` if none was sent
    (a network failure, for example); ``metadata`` is the ErrorInfo metadata (for example
    ``connection_id`` or ``field``); ``violations`` lists the rejected fields of a request
    (``CREDENTIALS_INVALID``: one per wrong credential field), empty for other errors.
    """

    def __init__(
        self,
        status_code: grpc.StatusCode,
        message: str,
        reason: str = "",
        metadata: Optional[Mapping[str, str]] = None,
        violations: Sequence[Violation] = (),
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.reason = reason
        self.metadata: Dict[str, str] = dict(metadata or {})
        self.violations: List[Violation] = list(violations)

    def code(self) -> grpc.StatusCode:
        """The gRPC status code (as ``grpc.Call.code()``)."""
        return self.status_code

    def details(self) -> str:
        """The message (as ``grpc.Call.details()``)."""
        return self.message

    def __str__(self) -> str:
        return f"{self.status_code.name}: {self.message}" + (f" ({self.reason})" if self.reason else "")

    def __repr__(self) -> str:
        parts = [f"code={self.status_code.name}", f"reason={self.reason!r}", f"message={self.message!r}"]
        if self.metadata:
            parts.append(f"metadata={self.metadata!r}")
        if self.violations:
            parts.append(f"violations={[tuple(v) for v in self.violations]!r}")
        return f"{type(self).__name__}({', '.join(parts)})"


class NotFoundError(NexusError):
    """NOT_FOUND: the connection or provider does not exist (in this project)."""


class InvalidArgumentError(NexusError):
    """INVALID_ARGUMENT: a request field is missing or malformed (see ``metadata["field"]``
    and ``violations``)."""


class AuthenticationError(NexusError):
    """UNAUTHENTICATED or PERMISSION_DENIED: the API key is wrong or lacks a scope."""


class UnavailableError(NexusError):
    """UNAVAILABLE: the provider (or Nexus) failed for now, or Nexus could not be reached;
    retry later."""


class DeadlineExceededError(NexusError, TimeoutError):
    """DEADLINE_EXCEEDED: the call's timeout passed (also a ``TimeoutError``)."""


class AttentionRequiredError(NexusError):
    """ATTENTION_REQUIRED: the provider rejected the refresh; the user must reconnect.

    Never retried. Show ``user_message`` to the user and create a new connection.
    """

    user_message = "Access to this service has expired or was revoked. Please reconnect your account."

    @property
    def connection_id(self) -> str:
        return self.metadata.get("connection_id", "")


def _class_for(code: grpc.StatusCode, reason: str) -> Type[NexusError]:
    if reason == "ATTENTION_REQUIRED":
        return AttentionRequiredError
    if code == grpc.StatusCode.NOT_FOUND:
        return NotFoundError
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        return InvalidArgumentError
    if code in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED):
        return AuthenticationError
    if code == grpc.StatusCode.UNAVAILABLE:
        return UnavailableError
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return DeadlineExceededError
    return NexusError


def _error_details(status: Any) -> Tuple[str, Dict[str, str], List[Violation]]:
    """(reason, metadata, violations) from a google.rpc.Status's details."""
    reason = ""
    metadata: Dict[str, str] = {}
    violations: List[Violation] = []
    for detail in status.details:
        if not reason and detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            reason = str(info.reason).removeprefix("ERROR_REASON_")
            metadata = {str(k): str(v) for k, v in info.metadata.items()}
        elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            violations.extend(Violation(str(v.field), str(v.description)) for v in bad.field_violations)
    return reason, metadata, violations


def from_rpc_error(err: BaseException) -> NexusError:
    """The typed error for a failed Nexus call: a ``grpc.RpcError`` from a unary call or a
    stream (``grpc`` or ``grpc.aio``). Anything else is a failure to reach Nexus and maps to
    ``UnavailableError``."""
    if isinstance(err, NexusError):
        return err
    code_of = getattr(err, "code", None)
    if not callable(code_of):
        return UnavailableError(grpc.StatusCode.UNAVAILABLE, str(err) or type(err).__name__)
    code: grpc.StatusCode = code_of() or grpc.StatusCode.UNKNOWN
    details_of = getattr(err, "details", None)
    message = str((details_of() if callable(details_of) else None) or "")
    reason = ""
    metadata: Dict[str, str] = {}
    violations: List[Violation] = []
    trailers_of = getattr(err, "trailing_metadata", None)
    trailers = (trailers_of() if callable(trailers_of) else None) or ()
    for key, value in trailers:
        if key == _STATUS_DETAILS_KEY and isinstance(value, bytes):
            try:
                status = status_pb2.Status.FromString(value)
            except Exception:  # a malformed status trailer: keep what the code says
                break
            reason, metadata, violations = _error_details(status)
            break
    return _class_for(code, reason)(code, message, reason, metadata, violations)


_CODES_BY_NAME = {c.name.lower(): c for c in grpc.StatusCode}


def from_proxy_response(status: int, headers: Mapping[str, str], body: bytes) -> NexusError:
    """The typed error for one of the proxy's own answers (it carries a ``Nexus-Error`` header
    and the JSON body ``{"code", "reason", "message"}``, docs/proxy.md)."""
    reason = str(headers.get("nexus-error", "")).removeprefix("ERROR_REASON_")
    data: Dict[str, Any] = {}
    try:
        parsed = json.loads(body.decode("utf-8"))
        if isinstance(parsed, dict):
            data = parsed
    except (ValueError, UnicodeDecodeError):
        pass
    code = _CODES_BY_NAME.get(str(data.get("code", "")).lower(), grpc.StatusCode.UNAVAILABLE if status >= 500 else grpc.StatusCode.UNKNOWN)
    reason = str(data.get("reason") or reason).removeprefix("ERROR_REASON_")
    message = str(data.get("message") or f"HTTP {status}")
    return _class_for(code, reason)(code, message, reason, {"http_status": str(status)})


class ConnectionEndedError(NexusError):
    """``wait_for_connection`` saw the connection reach a terminal status it was not waiting
    for: FAILED (the user denied consent, or the exchange failed), REVOKED, or
    ATTENTION_REQUIRED. ``connection`` is the connection as last seen."""

    def __init__(self, connection: connection_pb2.Connection, wanted: Sequence["connection_pb2.ConnectionStatus.ValueType"]) -> None:
        status = connection_pb2.ConnectionStatus.Name(connection.status)
        names = ", ".join(connection_pb2.ConnectionStatus.Name(w) for w in wanted)
        super().__init__(
            grpc.StatusCode.FAILED_PRECONDITION,
            f"connection {connection.id} is {status}, not {names}",
            "CONNECTION_NOT_ACTIVE",
            {"connection_id": connection.id, "status": status},
        )
        self.connection = connection
        self.wanted = list(wanted)
