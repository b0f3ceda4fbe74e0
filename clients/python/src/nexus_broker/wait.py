"""Waiting for one connection to reach a status (hand-written): the loop behind
``NexusClient.wait_for_connection`` and ``AsyncNexusClient.wait_for_connection``.

It watches the connection (WatchConnection: a snapshot, then every change) until its status
is one of the wanted ones (default ACTIVE) and returns it. A terminal status it was not
waiting for (FAILED, REVOKED, ATTENTION_REQUIRED) raises ``ConnectionEndedError``; past the
timeout, ``DeadlineExceededError`` (a ``TimeoutError``). A dropped stream (UNAVAILABLE: a
server restart, the network) is resumed from the last cursor; any other Nexus error
(``NotFoundError`` for an unknown id, ``AuthenticationError``) ends the wait.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any, Callable, Collection, Optional, Tuple

import grpc

from nexus.v1 import connection_pb2

from .errors import ConnectionEndedError, DeadlineExceededError, NexusError, UnavailableError

TERMINAL = (
    connection_pb2.CONNECTION_STATUS_FAILED,
    connection_pb2.CONNECTION_STATUS_REVOKED,
    connection_pb2.CONNECTION_STATUS_ATTENTION_REQUIRED,
)

_FIRST_BACKOFF = 0.25
_MAX_BACKOFF = 5.0


class _Watch:
    """The state of one wait: the wanted statuses, the cursor, and what to do with each item."""

    def __init__(self, connection_id: str, wanted: Tuple["connection_pb2.ConnectionStatus.ValueType", ...]) -> None:
        self.connection_id = connection_id
        self.wanted: Tuple["connection_pb2.ConnectionStatus.ValueType", ...] = wanted or (connection_pb2.CONNECTION_STATUS_ACTIVE,)
        self.cursor = ""
        self.backoff = _FIRST_BACKOFF

    def request(self) -> connection_pb2.WatchConnectionRequest:
        return connection_pb2.WatchConnectionRequest(connection_id=self.connection_id, resume_cursor=self.cursor)

    def seen(self, res: connection_pb2.WatchConnectionResponse) -> Optional[connection_pb2.Connection]:
        """The connection when the wait is over (raises ConnectionEndedError), else None."""
        which = res.WhichOneof("item")
        if which == "heartbeat":
            self.cursor = res.heartbeat.cursor
            self.backoff = _FIRST_BACKOFF
            return None
        if which != "event":
            return None
        self.cursor = res.event.cursor
        conn = res.event.connection
        if conn.status in self.wanted:
            return conn
        if conn.status in TERMINAL:
            raise ConnectionEndedError(conn, self.wanted)
        return None

    def resumable(self, err: NexusError) -> bool:
        """Whether to watch again after the stream failed with ``err`` (and from where)."""
        if isinstance(err, UnavailableError):
            return True
        if err.reason == "RESUME_CURSOR_EXPIRED" and self.cursor:
            self.cursor = ""  # start over from a snapshot
            self.backoff = 0.0
            return True
        return False

    def next_delay(self) -> float:
        delay, self.backoff = self.backoff, min(max(2 * self.backoff, _FIRST_BACKOFF), _MAX_BACKOFF)
        return delay

    def timed_out(self, timeout: Optional[float]) -> DeadlineExceededError:
        return DeadlineExceededError(grpc.StatusCode.DEADLINE_EXCEEDED, f"connection {self.connection_id} did not become {self._names()} within {timeout} s")

    def _names(self) -> str:
        return " or ".join(connection_pb2.ConnectionStatus.Name(w) for w in self.wanted)


def _cancel_when(cancel: Optional[threading.Event], call: Any) -> Callable[[], None]:
    """Cancels ``call`` once ``cancel`` is set; returns the function that stops watching."""
    if cancel is None:
        return lambda: None
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            if cancel.wait(0.05):
                call.cancel()
                return

    threading.Thread(target=watch, name="nexus-wait-cancel", daemon=True).start()
    return done.set


def wait_for_connection(
    watch_connection: Callable[..., Any],
    connection_id: str,
    wanted: Collection["connection_pb2.ConnectionStatus.ValueType"],
    timeout: Optional[float],
    cancel: Optional[threading.Event],
) -> connection_pb2.Connection:
    watch = _Watch(connection_id, tuple(wanted))
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        remaining = None if deadline is None else deadline - time.monotonic()
        if remaining is not None and remaining <= 0:
            raise watch.timed_out(timeout)
        if cancel is not None and cancel.is_set():
            raise NexusError(grpc.StatusCode.CANCELLED, "wait_for_connection was cancelled")
        stream = watch_connection(watch.request(), timeout=remaining)
        stop = _cancel_when(cancel, stream)
        try:
            for res in stream:
                conn = watch.seen(res)
                if conn is not None:
                    return conn
        except ConnectionEndedError:
            raise
        except NexusError as err:
            if err.status_code == grpc.StatusCode.DEADLINE_EXCEEDED:
                raise watch.timed_out(timeout) from None
            if cancel is not None and cancel.is_set():
                raise NexusError(grpc.StatusCode.CANCELLED, "wait_for_connection was cancelled") from None
            if not watch.resumable(err):
                raise
        finally:
            stop()
            stream.cancel()
        delay = watch.next_delay()
        if remaining is not None:
            delay = min(delay, max(0.0, deadline - time.monotonic()))  # type: ignore[operator]
        if cancel is not None:
            cancel.wait(delay)
        else:
            time.sleep(delay)


async def async_wait_for_connection(
    watch_connection: Callable[..., Any],
    connection_id: str,
    wanted: Collection["connection_pb2.ConnectionStatus.ValueType"],
    timeout: Optional[float],
) -> connection_pb2.Connection:
    watch = _Watch(connection_id, tuple(wanted))

    async def run() -> connection_pb2.Connection:
        while True:
            try:
                async for res in watch_connection(watch.request()):
                    conn = watch.seen(res)
                    if conn is not None:
                        return conn
            except ConnectionEndedError:
                raise
            except NexusError as err:
                if not watch.resumable(err):
                    raise
            await asyncio.sleep(watch.next_delay())

    if timeout is None:
        return await run()
    try:
        return await asyncio.wait_for(run(), timeout)
    except asyncio.TimeoutError:
        raise watch.timed_out(timeout) from None
