"""Nexus client (hand-written layer over the generated ``nexus.v1`` gRPC stubs).

``NexusClient`` (blocking) and ``AsyncNexusClient`` (asyncio) for the services, with
``wait_for_connection``; ``TokenSource`` / ``AsyncTokenSource`` for cached credentials;
``NexusAuth`` / ``AsyncNexusAuth`` (httpx) and ``NexusRequestsAuth`` (requests) to inject
them; ``NexusProxyTransport`` / ``AsyncNexusProxyTransport`` (httpx) to call the provider
through Nexus's proxy instead; and typed errors.
"""

from ._version import __version__
from .client import AsyncNexusClient, NexusClient
from .errors import (
    AttentionRequiredError,
    AuthenticationError,
    ConnectionEndedError,
    DeadlineExceededError,
    InvalidArgumentError,
    NexusError,
    NotFoundError,
    UnavailableError,
    Violation,
    from_proxy_response,
    from_rpc_error,
)
from .inject import (
    AsyncNexusAuth,
    AsyncTokenSource,
    NexusAuth,
    NexusRequestsAuth,
    TokenSource,
    apply_credentials,
    sign_aws_sigv4,
)
from .proxy import AsyncNexusProxyTransport, NexusProxyTransport

__all__ = [
    "__version__",
    "NexusClient",
    "AsyncNexusClient",
    "TokenSource",
    "AsyncTokenSource",
    "NexusAuth",
    "AsyncNexusAuth",
    "NexusRequestsAuth",
    "NexusProxyTransport",
    "AsyncNexusProxyTransport",
    "apply_credentials",
    "sign_aws_sigv4",
    "NexusError",
    "NotFoundError",
    "InvalidArgumentError",
    "AuthenticationError",
    "UnavailableError",
    "DeadlineExceededError",
    "AttentionRequiredError",
    "ConnectionEndedError",
    "Violation",
    "from_rpc_error",
    "from_proxy_response",
]
