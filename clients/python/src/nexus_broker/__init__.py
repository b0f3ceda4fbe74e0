"""Nexus client (hand-written layer over the generated ``nexus.v1`` gRPC stubs).

``NexusClient`` for the services, ``TokenSource`` for cached credentials, ``NexusAuth``
(httpx) and ``NexusRequestsAuth`` (requests) to inject them, and typed errors.
"""

from ._version import __version__
from .client import NexusClient
from .errors import (
    AttentionRequiredError,
    AuthenticationError,
    InvalidArgumentError,
    NexusError,
    NotFoundError,
    UnavailableError,
    from_rpc_error,
)
from .inject import NexusAuth, NexusRequestsAuth, TokenSource, apply_credentials, sign_aws_sigv4

__all__ = [
    "__version__",
    "NexusClient",
    "TokenSource",
    "NexusAuth",
    "NexusRequestsAuth",
    "apply_credentials",
    "sign_aws_sigv4",
    "NexusError",
    "NotFoundError",
    "InvalidArgumentError",
    "AuthenticationError",
    "UnavailableError",
    "AttentionRequiredError",
    "from_rpc_error",
]
