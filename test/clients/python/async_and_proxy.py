"""The asyncio client (AsyncNexusClient, AsyncTokenSource, AsyncNexusAuth) and the proxy
transports (NexusProxyTransport, AsyncNexusProxyTransport) against a live Nexus and its real
/proxy route, with a local upstream API that proves both bodies are streamed: the upload's
first chunk must reach the upstream before the agent sends the rest, and the download's
first chunk must reach the agent before the upstream sends the rest. Run by
test/clients/python-client.test.ts."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import time
from typing import AsyncIterator, Dict, Iterator

import httpx
from google.protobuf import struct_pb2

from nexus.v1 import connection_pb2, token_pb2
from nexus_broker import (
    AsyncNexusAuth,
    AsyncNexusClient,
    AsyncNexusProxyTransport,
    AsyncTokenSource,
    NexusClient,
    NexusProxyTransport,
    NotFoundError,
)

address = os.environ["NEXUS_ADDR"]
nexus_url = os.environ["NEXUS_URL"]
api_key = os.environ["NEXUS_API_KEY"]
return_url = os.environ["NEXUS_RETURN_URL"]
test_api = os.environ["TEST_API_URL"]
upstream = os.environ["UPSTREAM_URL"]
static_credentials: Dict[str, Dict[str, str]] = json.loads(os.environ["NEXUS_STATIC_CREDENTIALS"])
CHUNK = b"x" * 65536
REST = [bytes([65 + i]) * 65536 for i in range(8)]
BODY = CHUNK + b"".join(REST)


def say(*parts: object) -> None:
    print(*parts, flush=True)


def seen_upstream(direct: httpx.Client, at_least: int) -> bool:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if int(direct.get(f"{upstream}/seen").json()["bytes"]) >= at_least:
            return True
        time.sleep(0.05)
    return False


async def aseen_upstream(direct: httpx.AsyncClient, at_least: int) -> bool:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if int((await direct.get(f"{upstream}/seen")).json()["bytes"]) >= at_least:
            return True
        await asyncio.sleep(0.05)
    return False


def connect(nexus: NexusClient, workspace: str, provider: str, fields: Dict[str, str]) -> str:
    created = nexus.connections.CreateConnection(connection_pb2.CreateConnectionRequest(workspace_id=workspace, provider_name=provider, return_url=return_url))
    credentials = struct_pb2.Struct()
    credentials.update(fields)
    return nexus.connections.SubmitCredentials(connection_pb2.SubmitCredentialsRequest(state=created.state, credentials=credentials)).connection.id


nexus = NexusClient(address, api_key)
stream_conn = connect(nexus, "proxy-user", "stream-api", {"api_key": os.environ["UPSTREAM_KEY"]})

# --- proxy, blocking ---------------------------------------------------------------------------
with httpx.Client(timeout=15) as direct, httpx.Client(transport=NexusProxyTransport(nexus_url, api_key, stream_conn), timeout=15) as http:

    def upload() -> Iterator[bytes]:
        yield CHUNK
        say("upload_streamed", seen_upstream(direct, len(CHUNK)))
        yield from REST

    res = http.post("https://api.upstream.example/up?run=sync", content=upload(), headers={"content-type": "application/octet-stream"})
    got = res.json()
    say("upload", res.status_code, got["bytes"] == len(BODY), got["sha256"] == hashlib.sha256(BODY).hexdigest(), got["query"], got["key_ok"])

    with http.stream("GET", "https://api.upstream.example/down") as res:
        chunks = res.iter_raw()
        first = next(chunks)
        direct.post(f"{upstream}/ack")  # the upstream sends the rest only now
        rest = b"".join(chunks)
        say("download", res.status_code, first.startswith(b"first"), rest.endswith(b"last\n"))

    try:
        with httpx.Client(transport=NexusProxyTransport(nexus_url, api_key, "conn_00000000000000000000000000")) as missing:
            missing.get("https://api.upstream.example/down")
        say("proxy_error none")
    except NotFoundError as err:
        say("proxy_error", type(err).__name__, err.reason, err.metadata["http_status"])


# --- asyncio: client, token source, auth, proxy -----------------------------------------------
async def main() -> None:
    async with AsyncNexusClient(address, api_key) as aio:
        for provider in ("key-header", "sigv4"):
            created = await aio.connections.CreateConnection(connection_pb2.CreateConnectionRequest(workspace_id="async-user", provider_name=provider, return_url=return_url))
            credentials = struct_pb2.Struct()
            credentials.update(static_credentials[provider])
            done = await aio.connections.SubmitCredentials(connection_pb2.SubmitCredentialsRequest(state=created.state, credentials=credentials))
            source = AsyncTokenSource(aio, done.connection.id)
            tokens = await asyncio.gather(*(source.token() for _ in range(5)))
            same = all(t is tokens[0] for t in tokens)
            async with httpx.AsyncClient(auth=AsyncNexusAuth(source), timeout=10) as http:
                res = await http.post(f"{test_api}/check/{provider}?q=a%20b&z=1", content='{"hello":"world"}', headers={"content-type": "application/json"})
            say("async_call", provider, token_pb2.StrategyType.Name(tokens[0].strategy.type), same, res.status_code)

    async def key() -> str:
        return api_key

    async with httpx.AsyncClient(timeout=15) as direct, httpx.AsyncClient(transport=AsyncNexusProxyTransport(nexus_url, key, stream_conn), timeout=15) as http:
        await direct.post(f"{upstream}/reset")

        async def upload() -> AsyncIterator[bytes]:
            yield CHUNK
            say("async_upload_streamed", await aseen_upstream(direct, len(CHUNK)))
            for part in REST:
                yield part

        res = await http.post("https://api.upstream.example/up?run=async", content=upload())
        got = res.json()
        say("async_upload", res.status_code, got["bytes"] == len(BODY), got["sha256"] == hashlib.sha256(BODY).hexdigest(), got["query"])
        async with http.stream("GET", "https://api.upstream.example/down") as res:
            chunks = res.aiter_raw()
            first = await chunks.__anext__()
            await direct.post(f"{upstream}/ack")
            rest = b"".join([c async for c in chunks])
            say("async_download", res.status_code, first.startswith(b"first"), rest.endswith(b"last\n"))
        try:
            async with httpx.AsyncClient(transport=AsyncNexusProxyTransport(nexus_url, api_key, "conn_00000000000000000000000000")) as missing:
                await missing.get("https://api.upstream.example/down")
        except NotFoundError as err:
            say("async_proxy_error", type(err).__name__, err.reason)


asyncio.run(main())
say("done")
