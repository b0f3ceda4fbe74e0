"""An example agent using the nexus-broker package over gRPC. It connects a user to every
provider of the test environment, then calls each provider's API through the injection layer
(httpx; requests for the bearer provider). Run by test/clients/python-client.test.ts, which
plays the user; see the line protocol in test/clients/support.ts."""

from __future__ import annotations

import json
import os
import sys
from typing import Callable, Dict

import httpx
import requests
from google.protobuf import struct_pb2

from nexus.v1 import connection_pb2, token_pb2
from nexus_broker import (
    AttentionRequiredError,
    NexusAuth,
    NexusClient,
    NexusError,
    NexusRequestsAuth,
    TokenSource,
)


def say(*parts: str) -> None:
    print(" ".join(parts), flush=True)


def wait_for_user() -> None:
    sys.stdin.readline()


nexus = NexusClient(os.environ["NEXUS_ADDR"], os.environ["NEXUS_API_KEY"])
return_url = os.environ["NEXUS_RETURN_URL"]
workspace_id = "python-agent-user"
test_api = os.environ["TEST_API_URL"]
static_credentials: Dict[str, Dict[str, str]] = json.loads(os.environ["NEXUS_STATIC_CREDENTIALS"])
connections: Dict[str, str] = {}


def call(provider: str, connection_id: str) -> int:
    source = TokenSource(nexus, connection_id)
    url = f"{test_api}/check/{provider}?q=a%20b&z=1"
    body = json.dumps({"hello": "world"}, separators=(",", ":"))
    headers = {"content-type": "application/json"}
    if provider == "bearer":
        return requests.post(url, data=body, headers=headers, auth=NexusRequestsAuth(source), timeout=10).status_code
    with httpx.Client(auth=NexusAuth(source), timeout=10) as http:
        return http.post(url, content=body, headers=headers).status_code


# Static credentials: create the connection, then submit what the user typed.
for provider, fields in static_credentials.items():
    created = nexus.connections.CreateConnection(
        connection_pb2.CreateConnectionRequest(workspace_id=workspace_id, provider_name=provider, return_url=return_url)
    )
    credentials = struct_pb2.Struct()
    credentials.update(fields)
    submitted = nexus.connections.SubmitCredentials(connection_pb2.SubmitCredentialsRequest(state=created.state, credentials=credentials))
    connections[provider] = submitted.connection.id
    say("connected", provider, submitted.connection.id)

# OAuth2: the user consents in a browser.
oauth_provider = os.environ["NEXUS_OAUTH_PROVIDER"]
created = nexus.connections.CreateConnection(
    connection_pb2.CreateConnectionRequest(workspace_id=workspace_id, provider_name=oauth_provider, return_url=return_url)
)
say("auth_url", created.auth_url)
wait_for_user()
connections[oauth_provider] = created.connection.id
say("connected", oauth_provider, created.connection.id)

for provider in ("key-header", "sigv4", oauth_provider):
    token = TokenSource(nexus, connections[provider]).token()
    say("token", provider, token_pb2.StrategyType.Name(token.strategy.type))
for provider, connection_id in connections.items():
    say("call", provider, str(call(provider, connection_id)))


def expect_error(label: str, action: Callable[[], object]) -> None:
    try:
        action()
        say("error", label, "none")
    except NexusError as err:
        say("error", label, type(err).__name__, err.reason)


expect_error("not_found", lambda: TokenSource(nexus, "conn_00000000000000000000000000").token())
expect_error("invalid_argument", lambda: TokenSource(nexus, "").token())

say("await attention")
wait_for_user()
try:
    call(oauth_provider, connections[oauth_provider])
    say("error", "attention_required", "none")
except AttentionRequiredError as err:
    # Show the user err.user_message and offer to reconnect.
    say("error", "attention_required", type(err).__name__, err.reason)
except NexusError as err:
    say("error", "attention_required", type(err).__name__, err.reason)
say("done")
