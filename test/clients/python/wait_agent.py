"""wait_for_connection, blocking and asyncio, against a live Nexus: the user consents (the
test plays them at the local authorization server) while the agent waits; a denied consent
(FAILED), a deleted connection (REVOKED), a timeout, a cancellation and an unknown id. Run
by test/clients/python-client.test.ts: it answers each printed consent link."""

from __future__ import annotations

import asyncio
import os
import threading

import httpx

from nexus.v1 import connection_pb2
from nexus_broker import AsyncNexusAuth, AsyncNexusClient, AsyncTokenSource, ConnectionEndedError, DeadlineExceededError, NexusClient, NexusError, NotFoundError

address = os.environ["NEXUS_ADDR"]
api_key = os.environ["NEXUS_API_KEY"]
provider = os.environ["NEXUS_OAUTH_PROVIDER"]
return_url = os.environ["NEXUS_RETURN_URL"]


def say(*parts: object) -> None:
    print(*parts, flush=True)


def create(nexus: NexusClient, workspace: str) -> connection_pb2.CreateConnectionResponse:
    return nexus.connections.CreateConnection(connection_pb2.CreateConnectionRequest(workspace_id=workspace, provider_name=provider, return_url=return_url))


nexus = NexusClient(address, api_key)

# The recipe: create, send the user to consent, wait.
created = create(nexus, "wait-user-1")
say("consent", created.auth_url)
conn = nexus.wait_for_connection(created.connection.id, timeout=60)
say("active", conn.id == created.connection.id, connection_pb2.ConnectionStatus.Name(conn.status))

# The user denies consent: FAILED ends the wait.
denied = create(nexus, "wait-user-2")
say("deny", denied.auth_url)
try:
    nexus.wait_for_connection(denied.connection.id, timeout=60)
    say("denied none")
except ConnectionEndedError as err:
    say("denied", type(err).__name__, connection_pb2.ConnectionStatus.Name(err.connection.status), err.reason)

# Waiting for something that does not happen: the timeout, then a cancellation.
pending = create(nexus, "wait-user-3")
try:
    nexus.wait_for_connection(pending.connection.id, timeout=1.5)
except DeadlineExceededError as err:
    say("timeout", type(err).__name__, isinstance(err, TimeoutError), err.status_code.name)
cancel = threading.Event()
threading.Timer(0.5, cancel.set).start()
try:
    nexus.wait_for_connection(pending.connection.id, cancel=cancel)
except NexusError as err:
    say("cancelled", err.status_code.name)

# An active connection that is deleted while someone waits for another status: REVOKED.
threading.Timer(0.5, lambda: nexus.connections.DeleteConnection(connection_pb2.DeleteConnectionRequest(connection_id=conn.id))).start()
try:
    nexus.wait_for_connection(conn.id, connection_pb2.CONNECTION_STATUS_PENDING, timeout=30)
except ConnectionEndedError as err:
    say("revoked", connection_pb2.ConnectionStatus.Name(err.connection.status))

try:
    nexus.wait_for_connection("conn_00000000000000000000000000", timeout=10)
except NotFoundError as err:
    say("not_found", type(err).__name__, err.reason)


async def main() -> None:
    async with AsyncNexusClient(address, api_key) as aio:
        created = await aio.connections.CreateConnection(connection_pb2.CreateConnectionRequest(workspace_id="wait-user-4", provider_name=provider, return_url=return_url))
        say("async_consent", created.auth_url)
        conn = await aio.wait_for_connection(created.connection.id, timeout=60)
        say("async_active", connection_pb2.ConnectionStatus.Name(conn.status))
        # The provider API refuses the first access token: AsyncNexusAuth refreshes once, retries.
        source = AsyncTokenSource(aio, conn.id)
        async with httpx.AsyncClient(auth=AsyncNexusAuth(source), timeout=10) as http:
            res = await http.post(f"{os.environ['TEST_API_URL']}/check/local-oauth", content='{"hello":"world"}')
        say("async_oauth_call", res.status_code, len(res.history))
        pending = await aio.connections.CreateConnection(connection_pb2.CreateConnectionRequest(workspace_id="wait-user-5", provider_name=provider, return_url=return_url))
        try:
            await aio.wait_for_connection(pending.connection.id, timeout=1.5)
        except DeadlineExceededError as err:
            say("async_timeout", type(err).__name__, isinstance(err, TimeoutError))
        task = asyncio.create_task(aio.wait_for_connection(pending.connection.id))
        await asyncio.sleep(0.5)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            say("async_cancelled", task.cancelled())


asyncio.run(main())
say("done")
