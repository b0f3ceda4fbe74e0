"""gRPC clients for the Nexus services, authenticated with an API key (hand-written).

``NexusClient`` (blocking, ``grpc``) and ``AsyncNexusClient`` (asyncio, ``grpc.aio``) carry
the generated stubs behind one interceptor that adds the API key, raises typed
``NexusError`` subclasses from unary calls and server streams alike, and retries an
idempotent call (``Get*``, ``List*``) once when the connection to Nexus was lost under it.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any, AsyncIterator, Callable, Optional, Sequence, Tuple

import grpc
import grpc.aio

from nexus.v1 import connection_pb2, connection_pb2_grpc, provider_pb2_grpc, token_pb2_grpc

from .errors import from_rpc_error

# The pause before the one retry of an idempotent call, so that the channel has seen the
# old connection close and the retry goes out on a new one.
RETRY_PAUSE_SECONDS = 0.1
from .wait import async_wait_for_connection, wait_for_connection

def _idempotent(method: Any) -> bool:
    """Whether the RPC only reads (``/nexus.v1.TokenService/GetToken``, ``.../ListConnections``)."""
    name = (method.decode() if isinstance(method, bytes) else str(method)).rsplit("/", 1)[-1]
    return name.startswith(("Get", "List"))


def _lost_connection(err: BaseException) -> bool:
    """A transport failure (UNAVAILABLE without a Nexus reason: a reset or closed socket), as
    opposed to Nexus answering UNAVAILABLE itself (which carries an ErrorInfo reason)."""
    typed = from_rpc_error(err)
    return typed.status_code == grpc.StatusCode.UNAVAILABLE and not typed.reason


def _metadata(base: Any, api_key: Optional[str]) -> Sequence[Tuple[str, str]]:
    metadata = list(base or [])
    if api_key:
        metadata.append(("authorization", f"Bearer {api_key}"))
    return metadata


class _Details(grpc.ClientCallDetails):
    def __init__(self, base: grpc.ClientCallDetails, metadata: Any) -> None:
        self.method = base.method
        self.timeout = base.timeout
        self.metadata = metadata
        self.credentials = base.credentials
        self.wait_for_ready = getattr(base, "wait_for_ready", None)
        self.compression = getattr(base, "compression", None)


class _TypedStream:
    """A server stream whose iteration raises typed NexusErrors; everything else (``cancel()``,
    ``code()``, ``trailing_metadata()``...) is the underlying call's."""

    def __init__(self, call: Any) -> None:
        self._call = call

    def __iter__(self) -> "_TypedStream":
        return self

    def __next__(self) -> Any:
        try:
            return next(self._call)
        except grpc.RpcError as err:
            raise from_rpc_error(err) from None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._call, name)


class _NexusInterceptor(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor):
    def __init__(self, api_key: Optional[str]) -> None:
        self._api_key = api_key

    def intercept_unary_unary(self, continuation: Callable[..., Any], details: grpc.ClientCallDetails, request: Any) -> Any:
        with_key = _Details(details, _metadata(details.metadata, self._api_key))
        call = continuation(with_key, request)
        try:
            call.result()
            return call
        except grpc.RpcError as err:
            if not (_idempotent(details.method) and _lost_connection(err)):
                raise from_rpc_error(err) from None
        # Once more, on a new connection (the channel reconnects for it).
        time.sleep(RETRY_PAUSE_SECONDS)
        call = continuation(with_key, request)
        try:
            call.result()
        except grpc.RpcError as err:
            raise from_rpc_error(err) from None
        return call

    def intercept_unary_stream(self, continuation: Callable[..., Any], details: grpc.ClientCallDetails, request: Any) -> Any:
        return _TypedStream(continuation(_Details(details, _metadata(details.metadata, self._api_key)), request))


def _target(address: str) -> str:
    for scheme in ("http://", "https://"):
        if address.startswith(scheme):
            return address[len(scheme):].rstrip("/")
    return address


class NexusClient:
    """Stubs for ProviderService, ConnectionService and TokenService over gRPC (blocking).

    ``address`` is ``host:port`` (or ``http://host:port``); cleartext HTTP/2 unless
    ``credentials`` (``grpc.ssl_channel_credentials()``) are given. Failed calls and streams
    raise ``NexusError`` subclasses (``NotFoundError``, ``InvalidArgumentError``,
    ``AttentionRequiredError``, ``UnavailableError`` when Nexus cannot be reached, ...).
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

    def wait_for_connection(
        self,
        connection_id: str,
        *wanted: "connection_pb2.ConnectionStatus.ValueType",
        timeout: Optional[float] = None,
        cancel: Optional[threading.Event] = None,
    ) -> connection_pb2.Connection:
        """Blocks until the connection has one of the ``wanted`` statuses (default
        ``CONNECTION_STATUS_ACTIVE``) and returns it, watching it with WatchConnection (a
        dropped stream is resumed from its cursor). Raises ``ConnectionEndedError`` when it
        reaches another terminal status (FAILED: consent denied or the exchange failed;
        REVOKED; ATTENTION_REQUIRED), ``DeadlineExceededError`` (a ``TimeoutError``) after
        ``timeout`` seconds, a ``NexusError`` with code CANCELLED once ``cancel`` is set
        (from another thread), and ``NotFoundError`` for an unknown id."""
        return wait_for_connection(self.connections.WatchConnection, connection_id, wanted, timeout, cancel)

    def close(self) -> None:
        self._raw_channel.close()

    def __enter__(self) -> "NexusClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --- asyncio -----------------------------------------------------------------------------------


def _aio_details(base: grpc.aio.ClientCallDetails, api_key: Optional[str]) -> grpc.aio.ClientCallDetails:
    return grpc.aio.ClientCallDetails(base.method, base.timeout, grpc.aio.Metadata(*_metadata(base.metadata, api_key)), base.credentials, base.wait_for_ready)


class _AioUnaryInterceptor(grpc.aio.UnaryUnaryClientInterceptor):
    def __init__(self, api_key: Optional[str]) -> None:
        self._api_key = api_key

    async def intercept_unary_unary(self, continuation: Callable[..., Any], client_call_details: grpc.aio.ClientCallDetails, request: Any) -> Any:
        with_key = _aio_details(client_call_details, self._api_key)
        call = await continuation(with_key, request)
        try:
            await call
            return call
        except grpc.RpcError as err:
            if not (_idempotent(client_call_details.method) and _lost_connection(err)):
                raise from_rpc_error(err) from None
        await asyncio.sleep(RETRY_PAUSE_SECONDS)
        call = await continuation(with_key, request)
        try:
            await call
        except grpc.RpcError as err:
            raise from_rpc_error(err) from None
        return call


class _AioStreamInterceptor(grpc.aio.UnaryStreamClientInterceptor):
    def __init__(self, api_key: Optional[str]) -> None:
        self._api_key = api_key

    async def intercept_unary_stream(self, continuation: Callable[..., Any], client_call_details: grpc.aio.ClientCallDetails, request: Any) -> Any:
        call = await continuation(_aio_details(client_call_details, self._api_key), request)

        async def typed() -> AsyncIterator[Any]:
            try:
                async for response in call:
                    yield response
            except grpc.RpcError as err:
                raise from_rpc_error(err) from None
            finally:
                call.cancel()  # no-op once the stream ended; stops it when the caller broke out

        return typed()


class AsyncNexusClient:
    """The asyncio twin of ``NexusClient`` (``grpc.aio``): the same stubs, awaited
    (``await nexus.tokens.GetToken(req)``; streams with ``async for``), the same typed errors
    and retry. Use ``async with AsyncNexusClient(...) as nexus:`` or ``await nexus.close()``.
    Create it inside the event loop that uses it."""

    def __init__(self, address: str, api_key: Optional[str] = None, *, credentials: Optional[grpc.ChannelCredentials] = None) -> None:
        target = _target(address)
        interceptors = [_AioUnaryInterceptor(api_key), _AioStreamInterceptor(api_key)]
        if credentials:
            self.channel = grpc.aio.secure_channel(target, credentials, interceptors=interceptors)
        else:
            self.channel = grpc.aio.insecure_channel(target, interceptors=interceptors)
        self.providers = provider_pb2_grpc.ProviderServiceStub(self.channel)
        self.connections = connection_pb2_grpc.ConnectionServiceStub(self.channel)
        self.tokens = token_pb2_grpc.TokenServiceStub(self.channel)

    async def wait_for_connection(
        self,
        connection_id: str,
        *wanted: "connection_pb2.ConnectionStatus.ValueType",
        timeout: Optional[float] = None,
    ) -> connection_pb2.Connection:
        """As ``NexusClient.wait_for_connection``, awaited; cancel it by cancelling the task
        (``asyncio.CancelledError``, the stream is closed), or give a ``timeout``
        (``DeadlineExceededError``, a ``TimeoutError``)."""
        return await async_wait_for_connection(self.connections.WatchConnection, connection_id, wanted, timeout)

    async def close(self) -> None:
        await self.channel.close()

    async def __aenter__(self) -> "AsyncNexusClient":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


