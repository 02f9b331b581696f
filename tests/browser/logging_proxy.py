"""A tiny HTTP proxy on 127.0.0.1 that records what it is asked for and forwards nothing.

Point a server's ``HTTP_PROXY``/``HTTPS_PROXY`` at it: every outside request the server makes
(``GET http://host/…`` or ``CONNECT host:443``) lands in :attr:`LoggingProxy.requests`, and is
answered 502, so nothing leaves the machine either way.
"""

from __future__ import annotations

import socketserver
import threading

__all__ = ["LoggingProxy"]


class _Handler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        line = self.rfile.readline(4096).decode("latin-1").strip()
        if line:
            self.server.log.append(line)  # type: ignore[attr-defined]
        self.wfile.write(
            b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )


class LoggingProxy:
    """``with LoggingProxy() as proxy:`` → ``proxy.url``, ``proxy.requests`` (request lines)."""

    def __init__(self) -> None:
        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.log = []  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def requests(self) -> list[str]:
        return list(self._server.log)  # type: ignore[attr-defined]

    def env(self, base: dict[str, str]) -> dict[str, str]:
        """``base`` with every proxy variable pointing here and no proxy exemption."""
        env = {k: v for k, v in base.items() if k.lower() not in ("no_proxy", "all_proxy")}
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
            env[name] = self.url
        return env

    def __enter__(self) -> LoggingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
