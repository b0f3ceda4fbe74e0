"""Typed errors for Nexus RPC failures (hand-written).

Nexus attaches a google.rpc.ErrorInfo (reason "ERROR_REASON_<X>", domain "nexus") to every
error; ``from_rpc_error`` turns a ``grpc.RpcError`` into the matching ``NexusError`` subclass.
``NexusError`` is itself a ``grpc.RpcError``, so existing handlers keep working.
"""

from __future__ import annotations

from typing import Dict, Mapping, Optional

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status


class NexusError(grpc.RpcError):
    """An error Nexus answered with.

    ``status_code`` is the gRPC status code; ``reason`` is the ErrorReason without its
    ``ERROR_REASON_`` prefix (for example ``"CONNECTION_NOT_FOUND"``), ``""`` if none was sent;
    ``metadata`` is the ErrorInfo metadata (for example ``connection_id`` or ``field``).
    """

    def __init__(self, status_code: grpc.StatusCode, message: str, reason: str = "", metadata: Optional[Mapping[str, str]] = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.reason = reason
        self.metadata: Dict[str, str] = dict(metadata or {})

    def __str__(self) -> str:
        return f"{self.status_code.name}: {self.message}" + (f" ({self.reason})" if self.reason else "")


class NotFoundError(NexusError):
    """NOT_FOUND: the connection or provider does not exist (in this project)."""


class InvalidArgumentError(NexusError):
    """INVALID_ARGUMENT: a request field is missing or malformed (see ``metadata["field"]``)."""


class AuthenticationError(NexusError):
    """UNAUTHENTICATED or PERMISSION_DENIED: the API key is wrong or lacks a scope."""


class UnavailableError(NexusError):
    """UNAVAILABLE: the provider (or Nexus) failed for now; retry later."""


class AttentionRequiredError(NexusError):
    """ATTENTION_REQUIRED: the provider rejected the refresh; the user must reconnect.

    Never retried. Show ``user_message`` to the user and create a new connection.
    """

    user_message = "Access to this service has expired or was revoked. Please reconnect your account."

    @property
    def connection_id(self) -> str:
        return self.metadata.get("connection_id", "")


def from_rpc_error(err: grpc.RpcError) -> NexusError:
    """The typed error for a failed Nexus call."""
    if isinstance(err, NexusError):
        return err
    code: grpc.StatusCode = err.code() if hasattr(err, "code") else grpc.StatusCode.UNKNOWN  # type: ignore[attr-defined]
    message: str = (err.details() if hasattr(err, "details") else str(err)) or ""  # type: ignore[attr-defined]
    reason = ""
    metadata: Dict[str, str] = {}
    try:
        status = rpc_status.from_call(err)  # type: ignore[arg-type]
    except Exception:  # a malformed status trailer: keep what the code says
        status = None
    if status is not None:
        for detail in status.details:
            if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                info = error_details_pb2.ErrorInfo()
                detail.Unpack(info)
                reason = info.reason.removeprefix("ERROR_REASON_")
                metadata = dict(info.metadata)
                break
    cls: type[NexusError]
    if reason == "ATTENTION_REQUIRED":
        cls = AttentionRequiredError
    elif code == grpc.StatusCode.NOT_FOUND:
        cls = NotFoundError
    elif code == grpc.StatusCode.INVALID_ARGUMENT:
        cls = InvalidArgumentError
    elif code in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED):
        cls = AuthenticationError
    elif code == grpc.StatusCode.UNAVAILABLE:
        cls = UnavailableError
    else:
        cls = NexusError
    return cls(code, message, reason, metadata)
