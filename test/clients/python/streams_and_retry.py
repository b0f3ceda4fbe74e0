"""Typed errors on server streams and unary calls (blocking and asyncio), repr() with code and
reason, and the one retry of an idempotent call on a reset connection. Run by
test/clients/python-client.test.ts; prints one line per check."""

from __future__ import annotations

import asyncio
import os
import time

from google.protobuf import struct_pb2
from reset_proxy import ResetProxy

from nexus.v1 import connection_pb2, provider_pb2, token_pb2
from nexus_broker import AsyncNexusClient, InvalidArgumentError, NexusClient, NexusError, NotFoundError, UnavailableError

address = os.environ["NEXUS_ADDR"]
api_key = os.environ["NEXUS_API_KEY"]
missing = "conn_00000000000000000000000000"


def say(*parts: object) -> None:
    print(*parts, flush=True)


nexus = NexusClient(address, api_key)
try:
    for _ in nexus.connections.WatchConnection(connection_pb2.WatchConnectionRequest(connection_id=missing)):
        pass
except NotFoundError as err:
    say("stream", type(err).__name__, err.reason, repr(err))
try:
    nexus.tokens.GetToken(token_pb2.GetTokenRequest(connection_id=missing))
except NotFoundError as err:
    say("unary", type(err).__name__, err.reason, repr(err))

# CREDENTIALS_INVALID: one violation per broken rule (google.rpc.BadRequest), in repr() too.
capture = nexus.connections.CreateConnection(connection_pb2.CreateConnectionRequest(workspace_id="violations-user", provider_name="basic", return_url=os.environ["NEXUS_RETURN_URL"]))
try:
    nexus.connections.SubmitCredentials(connection_pb2.SubmitCredentialsRequest(state=capture.state, credentials=struct_pb2.Struct()))
except InvalidArgumentError as err:
    say("violations", err.reason, sorted(tuple(v) for v in err.violations), "violations=" in repr(err))

# Nexus behind a proxy that resets the live connection under the next call.
host, _sep, port = address.rpartition(":")
proxy = ResetProxy((host, int(port)))
behind = NexusClient(proxy.address, api_key)
behind.providers.ListProviders(provider_pb2.ListProvidersRequest())
time.sleep(0.3)
proxy.arm()
listed = behind.providers.ListProviders(provider_pb2.ListProvidersRequest())
say("retried", len(listed.providers) > 0, proxy.resets, proxy.connections)
time.sleep(0.3)
proxy.arm()
try:  # not idempotent: never retried, the reset surfaces as UNAVAILABLE
    behind.connections.CreateConnection(connection_pb2.CreateConnectionRequest(workspace_id="reset-user", provider_name="bearer", return_url=os.environ["NEXUS_RETURN_URL"]))
    say("not_retried none")
except UnavailableError as err:
    say("not_retried", type(err).__name__, err.status_code.name, proxy.resets, proxy.connections)

unreachable = NexusClient("127.0.0.1:1", api_key)
try:
    unreachable.providers.ListProviders(provider_pb2.ListProvidersRequest(), timeout=5)
except UnavailableError as err:
    say("unreachable", type(err).__name__, err.status_code.name)


async def main() -> None:
    async with AsyncNexusClient(address, api_key) as aio:
        try:
            async for _ in aio.connections.WatchConnection(connection_pb2.WatchConnectionRequest(connection_id=missing)):
                pass
        except NotFoundError as err:
            say("async_stream", type(err).__name__, err.reason)
        try:
            await aio.tokens.GetToken(token_pb2.GetTokenRequest(connection_id=""))
        except NexusError as err:
            say("async_unary", type(err).__name__, err.reason)
    async with AsyncNexusClient(proxy.address, api_key) as aio:
        await aio.providers.ListProviders(provider_pb2.ListProvidersRequest())
        await asyncio.sleep(0.3)
        resets, connections = proxy.resets, proxy.connections
        proxy.arm()
        listed = await aio.providers.ListProviders(provider_pb2.ListProvidersRequest())
        say("async_retried", len(listed.providers) > 0, proxy.resets - resets, proxy.connections - connections)


asyncio.run(main())
proxy.close()
say("done")
