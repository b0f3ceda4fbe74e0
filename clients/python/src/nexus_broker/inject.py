"""Credential injection (hand-written): a cached token source and auth hooks for httpx and
requests that apply GetToken's credentials according to the strategy."""

from __future__ import annotations

import base64
import threading
import time
from typing import Any, Callable, Dict, Generator, List, Mapping, Optional, Tuple
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
from google.protobuf import duration_pb2

from nexus.v1 import provider_pb2, token_pb2

from .client import NexusClient


class TokenSource:
    """Gets a connection's credentials with GetToken and caches them until
    ``refresh_margin`` seconds before they expire (static credentials, which do not expire,
    until ``invalidate()``). Thread-safe; concurrent callers share one request.
    Raises ``NexusError`` subclasses."""

    def __init__(self, client: NexusClient, connection_id: str, *, refresh_margin: float = 60.0, clock: Callable[[], float] = time.time) -> None:
        self.client = client
        self.connection_id = connection_id
        self.refresh_margin = refresh_margin
        self._clock = clock
        self._lock = threading.Lock()
        self._cached: Optional[token_pb2.Credential] = None

    def token(self) -> token_pb2.Credential:
        with self._lock:
            if self._cached is not None and self._fresh(self._cached):
                return self._cached
            min_remaining = duration_pb2.Duration(seconds=min(3600, int(self.refresh_margin) + 30))
            self._cached = self.client.tokens.GetToken(token_pb2.GetTokenRequest(connection_id=self.connection_id, min_remaining=min_remaining)).credential
            return self._cached

    def refresh(self) -> token_pb2.Credential:
        """Forces new credentials: RefreshToken for OAuth2, a fresh GetToken for static ones.
        Raises AttentionRequiredError when the user must reconnect."""
        with self._lock:
            previous, self._cached = self._cached, None
            if previous is not None and previous.strategy.type != token_pb2.STRATEGY_TYPE_OAUTH2:
                self._cached = self.client.tokens.GetToken(token_pb2.GetTokenRequest(connection_id=self.connection_id)).credential
            else:
                self._cached = self.client.tokens.RefreshToken(token_pb2.RefreshTokenRequest(connection_id=self.connection_id)).credential
            return self._cached

    def invalidate(self) -> None:
        with self._lock:
            self._cached = None

    def _fresh(self, token: token_pb2.Credential) -> bool:
        if not token.HasField("expire_time"):
            return True
        return token.expire_time.seconds + token.expire_time.nanos / 1e9 - self.refresh_margin > self._clock()


_SIGV4_DROP = {"authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256"}
_SIGV4_UNSIGNED = {"connection", "accept-encoding", "user-agent", "expect", "transfer-encoding"}


def sign_aws_sigv4(method: str, url: str, headers: Mapping[str, str], body: bytes, creds: token_pb2.AwsSigV4Credentials) -> Dict[str, str]:
    """The headers that sign this request with AWS Signature Version 4 (botocore's SigV4Auth)."""
    try:
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials
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

    def _apply(self, request: httpx.Request, token: token_pb2.Credential) -> None:
        for name in _SIGV4_DROP:
            request.headers.pop(name, None)
        url, headers = apply_credentials(request.method, str(request.url), dict(request.headers), request.content, token)
        request.url = httpx.URL(url)
        request.headers.update(headers)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        self._apply(request, self.source.token())
        response = yield request
        if response.status_code == 401:
            self._apply(request, self.source.refresh())
            yield request


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
