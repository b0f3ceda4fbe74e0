"""Proxy mode (hand-written): httpx transports that send every request through Nexus's
credential-injecting proxy (docs/proxy.md) instead of to the provider, so the agent never
holds the provider's credential.

``https://api.provider.com/x?y`` is sent as ``{base_url}/proxy/{connection_id}/x?y`` with
``Authorization: Bearer <api_key>`` (an API key, or an end user's access token, with the
``tokens`` scope); the provider's answers come back as they are, streamed both ways. Nexus's
own errors (the ``Nexus-Error`` header) are raised as ``NexusError`` subclasses.
Switching an agent from GetToken is one line::

    http = httpx.Client(auth=NexusAuth(TokenSource(nexus, connection_id)))      # before
    http = httpx.Client(transport=NexusProxyTransport(nexus_url, api_key, connection_id))  # after
"""

from __future__ import annotations

from typing import Awaitable, Callable, Optional, Union
from urllib.parse import quote, urlsplit

import httpx

from .errors import from_proxy_response

# The most of a Nexus error body read (they are a few hundred bytes of JSON).
_MAX_ERROR_BODY = 64 * 1024


class _Rewrite:
    """The URL and header rewrite both transports share."""

    def __init__(self, base_url: str, connection_id: str, api_base_url: Optional[str]) -> None:
        base = httpx.URL(base_url.rstrip("/"))
        if base.scheme not in ("http", "https") or not base.host:
            raise ValueError(f"nexus_broker: proxy base_url {base_url!r} is not an absolute http(s) URL")
        if not connection_id:
            raise ValueError("nexus_broker: proxy connection_id is empty")
        self.base = base
        self.prefix = f"{base.raw_path.decode('ascii').rstrip('/')}/proxy/{quote(connection_id, safe='')}"
        self.strip = urlsplit(api_base_url).path.rstrip("/") if api_base_url else ""

    def request(self, request: httpx.Request, api_key: str) -> httpx.Request:
        raw_path, _, query = request.url.raw_path.decode("ascii").partition("?")
        path = raw_path
        if self.strip and (path == self.strip or path.startswith(self.strip + "/")):
            path = path[len(self.strip):]
        target = self.base.copy_with(raw_path=(self.prefix + path + (f"?{query}" if query else "")).encode("ascii"))
        headers = request.headers.copy()
        for name in ("host", "x-api-key"):
            headers.pop(name, None)
        headers["authorization"] = f"Bearer {api_key}"
        headers["host"] = target.netloc.decode("ascii")  # httpx sets none for a streamed request
        return httpx.Request(request.method, target, headers=headers, stream=request.stream, extensions=request.extensions)


ApiKey = Union[str, Callable[[], str]]
AsyncApiKey = Union[str, Callable[[], str], Callable[[], Awaitable[str]]]


class NexusProxyTransport(httpx.BaseTransport):
    """An ``httpx`` transport for ``httpx.Client(transport=...)`` that sends each request
    through Nexus's proxy for ``connection_id``.

    ``api_key``: the Nexus API key or an end user's access token (or a function returning
    one, called per request, e.g. for a refreshed access token). ``api_base_url``: the
    provider's API base as the agent's URLs spell it, when it has a path
    (``https://www.googleapis.com/calendar/v3``): that prefix is removed, since Nexus appends
    the rest to the provider's own api_base_url. ``transport``: what reaches Nexus (default
    ``httpx.HTTPTransport()``). Raises ``NexusError`` for Nexus's own errors (404
    ``CONNECTION_NOT_FOUND``, 424 ``ATTENTION_REQUIRED``, ...).
    """

    def __init__(self, base_url: str, api_key: ApiKey, connection_id: str, *, api_base_url: Optional[str] = None, transport: Optional[httpx.BaseTransport] = None) -> None:
        self._rewrite = _Rewrite(base_url, connection_id, api_base_url)
        self._api_key = api_key
        self._transport = transport or httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        key = self._api_key() if callable(self._api_key) else self._api_key
        response = self._transport.handle_request(self._rewrite.request(request, key))
        if "nexus-error" not in response.headers:
            return response
        try:
            body = b""
            for chunk in response.stream:  # type: ignore[union-attr]
                body += chunk
                if len(body) >= _MAX_ERROR_BODY:
                    break
        finally:
            response.close()
        raise from_proxy_response(response.status_code, response.headers, body[:_MAX_ERROR_BODY])

    def close(self) -> None:
        self._transport.close()


class AsyncNexusProxyTransport(httpx.AsyncBaseTransport):
    """The asyncio twin of ``NexusProxyTransport``, for ``httpx.AsyncClient(transport=...)``
    (``api_key`` may also be an async function)."""

    def __init__(self, base_url: str, api_key: AsyncApiKey, connection_id: str, *, api_base_url: Optional[str] = None, transport: Optional[httpx.AsyncBaseTransport] = None) -> None:
        self._rewrite = _Rewrite(base_url, connection_id, api_base_url)
        self._api_key = api_key
        self._transport = transport or httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        key = self._api_key() if callable(self._api_key) else self._api_key
        if not isinstance(key, str):
            key = await key
        response = await self._transport.handle_async_request(self._rewrite.request(request, key))
        if "nexus-error" not in response.headers:
            return response
        try:
            body = b""
            async for chunk in response.stream:  # type: ignore[union-attr]
                body += chunk
                if len(body) >= _MAX_ERROR_BODY:
                    break
        finally:
            await response.aclose()
        raise from_proxy_response(response.status_code, response.headers, body[:_MAX_ERROR_BODY])

    async def aclose(self) -> None:
        await self._transport.aclose()


