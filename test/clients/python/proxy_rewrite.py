"""What NexusProxyTransport sends, without a server: the request it hands to the transport
beneath (httpx.MockTransport), for the cases docs/proxy.md names. Run by
test/clients/python-client.test.ts; prints one line per request."""

from __future__ import annotations

import asyncio
from typing import List

import httpx

from nexus_broker import AsyncNexusProxyTransport, NexusError, NexusProxyTransport

sent: List[httpx.Request] = []


def record(request: httpx.Request) -> httpx.Response:
    sent.append(request)
    if request.url.path.endswith("/nexus-error"):
        return httpx.Response(409, headers={"Nexus-Error": "ERROR_REASON_CONNECTION_NOT_ACTIVE"}, json={"code": "failed_precondition", "reason": "ERROR_REASON_CONNECTION_NOT_ACTIVE", "message": "connection is pending"})
    if request.url.path.endswith("/provider-error"):
        return httpx.Response(409, json={"code": "failed_precondition", "reason": "ERROR_REASON_CONNECTION_NOT_ACTIVE"})
    return httpx.Response(200, text="ok")


def show(request: httpx.Request) -> str:
    return f"{request.method} {request.url} host={request.headers.get('host')} auth={request.headers.get('authorization')} x-api-key={request.headers.get('x-api-key')} body={request.read().decode()}"


plain = httpx.Client(transport=NexusProxyTransport("https://nexus.example.com/", "key1", "conn_a/b", transport=httpx.MockTransport(record)))
plain.get("https://api.github.com/user/repos?per_page=5&q=a%20b", headers={"x-api-key": "agent-own"})
plain.post("https://api.github.com/a%2Fb/c", content=b"payload")
calendar = httpx.Client(
    transport=NexusProxyTransport(
        "http://nexus.local:8080/base",
        lambda: "key2",
        "conn_c",
        api_base_url="https://www.googleapis.com/calendar/v3/",
        transport=httpx.MockTransport(record),
    )
)
calendar.get("https://www.googleapis.com/calendar/v3/calendars/primary/events")
calendar.get("https://www.googleapis.com/calendar/v3")
calendar.get("https://www.googleapis.com/calendar/v30/other")
for request in sent:
    print(show(request))

try:
    plain.get("https://api.github.com/nexus-error")
except NexusError as err:
    print("nexus_error", repr(err))
print("provider_error", plain.get("https://api.github.com/provider-error").status_code)

for bad in ("nexus.example.com", "ftp://nexus.example.com"):
    try:
        NexusProxyTransport(bad, "k", "conn_a")
    except ValueError as err:
        print("refused", bad)


async def main() -> None:
    async def key() -> str:
        return "key3"

    sent.clear()
    async with httpx.AsyncClient(transport=AsyncNexusProxyTransport("https://nexus.example.com", key, "conn_d", transport=httpx.MockTransport(record))) as aio:
        await aio.put("https://api.example.com/x?y=1", content=b"async-body")
    print("async", show(sent[0]))


asyncio.run(main())
