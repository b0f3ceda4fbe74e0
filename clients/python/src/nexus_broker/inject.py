"""Credential injection (hand-written): a cached token source and auth hooks for httpx and
requests that apply GetToken's credentials according to the strategy."""

from __future__ import annotations

import asyncio
import base64
import threading
import time
from typing import Any, AsyncGenerator, Callable, Dict, Generator, List, Mapping, Optional, Tuple
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
from google.protobuf import duration_pb2

from nexus.v1 import provider_pb2, token_pb2

from .client import AsyncNexusClient, NexusClient


class _TokenCache:
    """What TokenSource and AsyncTokenSource share: the cache and the requests."""

    def __init__(self, connection_id: str, refresh_margin: float, clock: Callable[[], float]) -> None:
        self.connection_id = connection_id
        self.refresh_margin = refresh_margin
        self._clock = clock
        self._cached: Optional[token_pb2.Credential] = None

    def _cached_fresh(self) -> Optional[token_pb2.Credential]:
        token = self._cached
        if token is None:
            return None
        if not token.HasField("expire_time"):
            return token
        fresh = token.expire_time.seconds + token.expire_time.nanos / 1e9 - self.refresh_margin > self._clock()
        return token if fresh else None

    def _get_request(self, *, min_remaining: bool = True) -> token_pb2.GetTokenRequest:
        if not min_remaining:
            return token_pb2.GetTokenRequest(connection_id=self.connection_id)
        seconds = min(3600, int(self.refresh_margin) + 30)
        return token_pb2.GetTokenRequest(connection_id=self.connection_id, min_remaining=duration_pb2.Duration(seconds=seconds))

    def _refresh_is_get(self) -> bool:
        """Whether a forced refresh is a fresh GetToken (static credentials), not RefreshToken."""
        previous, self._cached = self._cached, None
        return previous is not None and previous.strategy.type != token_pb2.STRATEGY_TYPE_OAUTH2

    def _refresh_request(self) -> token_pb2.RefreshTokenRequest:
        return token_pb2.RefreshTokenRequest(connection_id=self.connection_id)


class TokenSource(_TokenCache):
    """Gets a connection's credentials with GetToken and caches them until
    ``refresh_margin`` seconds before they expire (static credentials, which do not expire,
    until ``invalidate()``). Thread-safe; concurrent callers share one request.
    Raises ``NexusError`` subclasses."""

    def __init__(self, client: NexusClient, connection_id: str, *, refresh_margin: float = 60.0, clock: Callable[[], float] = time.time) -> None:
        super().__init__(connection_id, refresh_margin, clock)
        self.client = client
        self._lock = threading.Lock()

    def token(self) -> token_pb2.Credential:
        with self._lock:
            cached = self._cached_fresh()
            if cached is None:
                cached = self._cached = self.client.tokens.GetToken(self._get_request()).credential
            return cached

    def refresh(self) -> token_pb2.Credential:
        """Forces new credentials: RefreshToken for OAuth2, a fresh GetToken for static ones.
        Raises AttentionRequiredError when the user must reconnect."""
        with self._lock:
            if self._refresh_is_get():
                token = self.client.tokens.GetToken(self._get_request(min_remaining=False)).credential
            else:
                token = self.client.tokens.RefreshToken(self._refresh_request()).credential
            self._cached = token
            return token

    def invalidate(self) -> None:
        with self._lock:
            self._cached = None


class AsyncTokenSource(_TokenCache):
    """The asyncio twin of ``TokenSource``, over an ``AsyncNexusClient``: ``await
    source.token()``, ``await source.refresh()``. Concurrent tasks share one request (an
    ``asyncio.Lock``); use it from one event loop."""

    def __init__(self, client: AsyncNexusClient, connection_id: str, *, refresh_margin: float = 60.0, clock: Callable[[], float] = time.time) -> None:
        super().__init__(connection_id, refresh_margin, clock)
        self.client = client
        self._lock = asyncio.Lock()

    async def token(self) -> token_pb2.Credential:
        async with self._lock:
            cached = self._cached_fresh()
            if cached is None:
                cached = self._cached = (await self.client.tokens.GetToken(self._get_request())).credential
            return cached

    async def refresh(self) -> token_pb2.Credential:
        """Forces new credentials (see ``TokenSource.refresh``)."""
        async with self._lock:
            if self._refresh_is_get():
                token = (await self.client.tokens.GetToken(self._get_request(min_remaining=False))).credential
            else:
                token = (await self.client.tokens.RefreshToken(self._refresh_request())).credential
            self._cached = token
            return token

    def invalidate(self) -> None:
        self._cached = None


_SIGV4_DROP = {"authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256"}
_SIGV4_UNSIGNED = {"connection", "accept-encoding", "user-agent", "expect", "transfer-encoding"}


def sign_aws_sigv4(method: str, url: str, headers: Mapping[str, str], body: bytes, creds: token_pb2.AwsSigV4Credentials) -> Dict[str, str]:
    """The headers that sign this request with AWS Signature Version 4 (botocore's SigV4Auth)."""
    try:
        from botocore.auth import SigV4Auth  # type: ignore[import-untyped, import-not-found, unused-ignore]
        from botocore.awsrequest import AWSRequest  # type: ignore[import-untyped, import-not-found, unused-ignore]
        from botocore.credentials import Credentials  # type: ignore[import-untyped, import-not-found, unused-ignore]
    except ImportError as e:  # pragma: no cover
        raise RuntimeError("AWS SigV4 needs botocore: pip install 'nexus-broker[aws]'") from e
    to_sign = {k: v for k, v in headers.items() if k.lower() not in _SIGV4_DROP | _SIGV4_UNSIGNED}
    request = AWSRequest(method=method, url=url, data=body, headers=to_sign)
    SigV4Auth(Credentials(creds.access_key_id, creds.secret_access_key, creds.session_token or None), creds.service, creds.region).add_auth(request)
    return {k: v for k, v in request.headers.items() if k.lower() in _SIGV4_DROP}


def apply_credentials(method: str, url: str, headers: Mapping[str, str], body: bytes, token: token_pb2.Credential) -> Tuple[str, Dict[str, str]]:
    """Returns the (url, headers to set) that apply ``token`` to a request, by strategy."""
    kind = token.WhichOneof("credentials")
    if kind == "oauth2":
        return url, {"Authorization": f"Bearer {token.oauth2.access_token}"}
    if kind == "bearer":
        return url, {"Authorization": f"Bearer {token.bearer.token}"}
    if kind == "basic_auth":
        raw = f"{token.basic_auth.username}:{token.basic_auth.password}".encode()
        return url, {"Authorization": "Basic " + base64.b64encode(raw).decode()}
    if kind == "api_key":
        placement = token.strategy.api_key
        value = placement.prefix + token.api_key.api_key
        if placement.location == provider_pb2.API_KEY_LOCATION_QUERY:
            parts = urlsplit(url)
            name = placement.name or "api_key"
            query: List[Tuple[str, str]] = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != name]
            query.append((name, value))
            return urlunsplit(parts._replace(query=urlencode(query))), {}
        return url, {placement.name or "X-API-Key": value}
    if kind == "aws_sigv4":
        return url, sign_aws_sigv4(method, url, headers, body, token.aws_sigv4)
    raise ValueError(f"nexus: unsupported strategy {token_pb2.StrategyType.Name(token.strategy.type)}")


class NexusAuth(httpx.Auth):
    """httpx auth: ``httpx.Client(auth=NexusAuth(source))``. On a 401 from the provider it
    forces one refresh and retries once. Nexus errors (AttentionRequiredError: the user must
    reconnect; never retried) propagate from the request call."""

    requires_request_body = True

    def __init__(self, source: TokenSource) -> None:
        self.source = source

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        _apply_httpx(request, self.source.token())
        response = yield request
        if response.status_code == 401:
            _apply_httpx(request, self.source.refresh())
            yield request


class AsyncNexusAuth(httpx.Auth):
    """httpx auth for ``httpx.AsyncClient(auth=AsyncNexusAuth(source))``, with an
    ``AsyncTokenSource``: the token requests are awaited, never blocking the event loop. On a
    401 from the provider it forces one refresh and retries once."""

    requires_request_body = True

    def __init__(self, source: AsyncTokenSource) -> None:
        self.source = source

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        raise RuntimeError("AsyncNexusAuth works with httpx.AsyncClient; use NexusAuth with httpx.Client")
        yield request  # pragma: no cover

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        _apply_httpx(request, await self.source.token())
        response = yield request
        if response.status_code == 401:
            _apply_httpx(request, await self.source.refresh())
            yield request


def _apply_httpx(request: httpx.Request, token: token_pb2.Credential) -> None:
    for name in _SIGV4_DROP:
        request.headers.pop(name, None)
    url, headers = apply_credentials(request.method, str(request.url), dict(request.headers), request.content, token)
    request.url = httpx.URL(url)
    request.headers.update(headers)


class NexusRequestsAuth:
    """requests auth: ``requests.get(url, auth=NexusRequestsAuth(source))``. On a 401 it
    forces one refresh and resends once."""

    def __init__(self, source: TokenSource) -> None:
        self.source = source

    def _apply(self, r: Any, token: token_pb2.Credential) -> None:
        for name in _SIGV4_DROP:
            r.headers.pop(name, None)
        body = r.body or b""
        if isinstance(body, str):
            body = body.encode()
        url, headers = apply_credentials(r.method, r.url, dict(r.headers), body, token)
        r.url = url
        r.headers.update(headers)

    def __call__(self, r: Any) -> Any:
        self._apply(r, self.source.token())
        r.register_hook("response", self._on_response)
        return r

    def _on_response(self, response: Any, **kwargs: Any) -> Any:
        if response.status_code != 401 or getattr(response.request, "_nexus_retried", False):
            return response
        response.content  # release the connection
        response.close()
        retry = response.request.copy()
        retry.hooks["response"] = []
        self._apply(retry, self.source.refresh())
        retry._nexus_retried = True
        new = response.connection.send(retry, **kwargs)
        new.history.append(response)
        new.request = retry
        return new
