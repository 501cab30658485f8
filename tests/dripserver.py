"""Two broken HTTP servers on 127.0.0.1 for the deadline tests, each stopping by itself.

``DripServer(mode="drip")`` reads a request and answers it with a valid Prometheus instant-query
answer (``200``, the number 1) one byte per second, headers included: every read gets a byte well
within any read timeout, so only a deadline on the whole answer ends the request.
``DripServer(mode="mute")`` accepts connections and never answers. Both close every connection on
:meth:`DripServer.stop` or after ``lifetime`` seconds, whichever comes first, so a test that
forgets to stop one cannot leave it behind.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Literal

from tests.services import free_port

BODY = b'{"status":"success","data":{"resultType":"scalar","result":[1700000000,"1"]}}'
ANSWER = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
    + f"Content-Length: {len(BODY)}\r\n\r\n".encode()
    + BODY
)


class DripServer:
    """A server that drips its answer one byte per ``every`` seconds, or never answers."""

    def __init__(
        self, mode: Literal["drip", "mute"] = "drip", *, every: float = 1.0, lifetime: float = 60.0
    ) -> None:
        self.mode = mode
        self.every = every
        self.lifetime = lifetime
        self.port = free_port()
        self.connections = 0
        self._stop = threading.Event()
        self._listener: socket.socket | None = None
        self._lock = threading.Lock()
        self._open: list[socket.socket] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> DripServer:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        listener.settimeout(0.1)
        self._listener = listener
        ends = time.monotonic() + self.lifetime
        threading.Thread(target=self._accept, args=(ends,), daemon=True, name="drip").start()
        return self

    def _accept(self, ends: float) -> None:
        listener = self._listener
        assert listener is not None
        while not self._stop.is_set() and time.monotonic() < ends:
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                break
            with self._lock:
                self.connections += 1
                self._open.append(conn)
            threading.Thread(
                target=self._serve, args=(conn, ends), daemon=True, name="drip-conn"
            ).start()
        self.stop()

    def _serve(self, conn: socket.socket, ends: float) -> None:
        try:
            conn.settimeout(1.0)
            request = b""
            while b"\r\n\r\n" not in request and not self._stop.is_set():
                try:
                    chunk = conn.recv(4096)
                except TimeoutError:
                    continue
                if not chunk:
                    return
                request += chunk
            for byte in ANSWER if self.mode == "drip" else b"":
                if self._stop.wait(self.every) or time.monotonic() > ends:
                    return
                conn.sendall(bytes([byte]))
            self._stop.wait(max(0.0, ends - time.monotonic()))  # mute: hold it open, silent
        except OSError:
            pass  # the client gave up and closed its end
        finally:
            conn.close()

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            for conn in self._open:
                conn.close()
            self._open = []
            if self._listener is not None:
                self._listener.close()
                self._listener = None

    def __enter__(self) -> DripServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
