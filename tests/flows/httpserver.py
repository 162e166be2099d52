"""A loopback HTTP server for fetcher tests: canned replies per path, request log with timestamps.

    with LoopbackServer() as srv:
        srv.route("/a", Reply(body=b"<html>..."))
        srv.route("/flaky", Reply(500), Reply(200, b"ok"))   # replies in order, the last repeats
        srv.url("/a")                                        # http://127.0.0.1:PORT/a
        srv.requests("/a")                                   # [(monotonic time, headers), ...]
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "text/html; charset=utf-8"})
    delay_seconds: float = 0.0  # before the status line
    trickle_seconds: float = 0.0  # between body chunks of 1 KiB
    content_length: bool = True


class LoopbackServer:
    def __init__(self) -> None:
        self._routes: dict[str, list[Reply]] = {}
        self._log: list[tuple[float, str, dict[str, str]]] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server API
                path = self.path.split("?", 1)[0]
                with server._lock:
                    server._log.append((time.monotonic(), path, dict(self.headers.items())))
                    replies = server._routes.get(path)
                    reply = (replies.pop(0) if len(replies) > 1 else replies[0]) if replies else Reply(404, b"not found")
                if reply.delay_seconds:
                    time.sleep(reply.delay_seconds)
                try:
                    self.send_response(reply.status)
                    for k, v in reply.headers.items():
                        self.send_header(k, v)
                    if reply.content_length:
                        self.send_header("Content-Length", str(len(reply.body)))
                    self.send_header("Connection", "close")
                    self.end_headers()
                    if reply.trickle_seconds:
                        for i in range(0, len(reply.body), 1024):
                            self.wfile.write(reply.body[i : i + 1024])
                            self.wfile.flush()
                            time.sleep(reply.trickle_seconds)
                    else:
                        self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def route(self, path: str, *replies: Reply) -> None:
        with self._lock:
            self._routes[path] = list(replies) or [Reply()]

    def requests(self, path: str | None = None) -> list[tuple[float, dict[str, str]]]:
        with self._lock:
            return [(t, h) for t, p, h in self._log if path is None or p == path]

    def paths(self) -> list[str]:
        with self._lock:
            return [p for _, p, _ in self._log]

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
