"""A local stand-in for a Slack incoming webhook: a real HTTP server on a free loopback port, in a thread."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any


@dataclass
class Webhook:
    """A local stand-in for a Slack incoming webhook: records every JSON body, can answer errors first."""

    url: str
    received: list[dict[str, Any]] = field(default_factory=list)
    fail_next: list[int] = field(default_factory=list)


@contextmanager
def serve_webhook() -> Iterator[Webhook]:
    """Serve until the block ends; `fail_next` status codes are answered (and not recorded) first."""
    hook = Webhook(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            status = hook.fail_next.pop(0) if hook.fail_next else 200
            if status == 200:
                hook.received.append(json.loads(body))
            self.send_response(status)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            return  # keep the test output clean

    server = HTTPServer(("127.0.0.1", 0), Handler)
    hook.url = f"http://127.0.0.1:{server.server_port}/hooks/incidents"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hook
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


