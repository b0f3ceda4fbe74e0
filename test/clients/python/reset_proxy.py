"""A local TCP proxy in front of Nexus that can reset a live connection: armed, it answers the
next bytes the client sends on the current connection with a TCP RST (SO_LINGER 0), as a
server or load balancer that closes a keep-alive socket under an in-flight call does. Used by
the Python client tests (test/clients/python-*.test.ts)."""

from __future__ import annotations

import socket
import struct
import threading
from typing import List, Tuple


class ResetProxy:
    def __init__(self, upstream: Tuple[str, int]) -> None:
        self.upstream = upstream
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self.listener.getsockname()[1]}"
        self.connections = 0
        self.resets = 0
        self._armed = threading.Event()
        self._open: List[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def arm(self) -> None:
        """Reset the connection on the client's next bytes."""
        self._armed.set()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            server = socket.create_connection(self.upstream)
            self._open += [client, server]
            threading.Thread(target=self._pipe, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, False), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, from_client: bool) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if from_client and self._armed.is_set():
                    self._armed.clear()
                    self.resets += 1
                    for s in (src, dst):
                        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                        s.close()
                    return
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self) -> None:
        self.listener.close()
        for s in self._open:
            try:
                s.close()
            except OSError:
                pass
