"""gRPC clients for the Nexus services, authenticated with an API key (hand-written)."""

from __future__ import annotations

from typing import Any, Callable, Optional

import grpc

from nexus.v1 import connection_pb2_grpc, provider_pb2_grpc, token_pb2_grpc

from .errors import from_rpc_error


class _Details(grpc.ClientCallDetails):  # type: ignore[misc]
    def __init__(self, base: grpc.ClientCallDetails, metadata: Any) -> None:
        self.method = base.method
        self.timeout = base.timeout
        self.metadata = metadata
        self.credentials = base.credentials
        self.wait_for_ready = getattr(base, "wait_for_ready", None)
        self.compression = getattr(base, "compression", None)


class _NexusInterceptor(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor):  # type: ignore[misc]
    """Adds ``authorization: Bearer <key>`` and raises typed NexusErrors."""

    def __init__(self, api_key: Optional[str]) -> None:
        self._api_key = api_key

    def _details(self, details: grpc.ClientCallDetails) -> grpc.ClientCallDetails:
        metadata = list(details.metadata or [])
        if self._api_key:
            metadata.append(("authorization", f"Bearer {self._api_key}"))
        return _Details(details, metadata)

    def intercept_unary_unary(self, continuation: Callable[..., Any], details: grpc.ClientCallDetails, request: Any) -> Any:
        call = continuation(self._details(details), request)
        try:
            call.result()
        except grpc.RpcError as err:
            raise from_rpc_error(err) from None
        return call

    def intercept_unary_stream(self, continuation: Callable[..., Any], details: grpc.ClientCallDetails, request: Any) -> Any:
        return continuation(self._details(details), request)


def _target(address: str) -> str:
    for scheme in ("http://", "https://"):
        if address.startswith(scheme):
            return address[len(scheme):].rstrip("/")
    return address


class NexusClient:
    """Stubs for ProviderService, ConnectionService and TokenService over gRPC.

    ``address`` is ``host:port`` (or ``http://host:port``); cleartext HTTP/2 unless
    ``credentials`` (``grpc.ssl_channel_credentials()``) are given. Failed calls raise
    ``NexusError`` subclasses (``NotFoundError``, ``InvalidArgumentError``,
    ``AttentionRequiredError``, ...).
    """

    def __init__(self, address: str, api_key: Optional[str] = None, *, credentials: Optional[grpc.ChannelCredentials] = None, channel: Optional[grpc.Channel] = None) -> None:
        if channel is None:
            target = _target(address)
            channel = grpc.secure_channel(target, credentials) if credentials else grpc.insecure_channel(target)
        self._raw_channel = channel
        self.channel: grpc.Channel = grpc.intercept_channel(channel, _NexusInterceptor(api_key))
        self.providers = provider_pb2_grpc.ProviderServiceStub(self.channel)
        self.connections = connection_pb2_grpc.ConnectionServiceStub(self.channel)
        self.tokens = token_pb2_grpc.TokenServiceStub(self.channel)

    def close(self) -> None:
        self._raw_channel.close()

    def __enter__(self) -> "NexusClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
