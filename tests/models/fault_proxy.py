"""A loopback HTTP proxy in front of a real `mlflow server` that injects the faults the fault suite needs.

It parses each request (stdlib `http.server`, keep-alive), decides by rule what to do with it, and forwards it
to the server with `http.client`. The faults, each armed for the next `count` matching requests:

- ``delay``: hold the request for `seconds` (or until `release()`), then deliver it. The client times out
  first, and its request reaches the server *afterwards* (a set-alias delivered late).
- ``hold_response``: deliver the request at once (the server applies it), but keep the response until
  `seconds` pass or `release()`. The client times out on a write that did happen.
- ``drop``: never deliver the request; hang until `seconds` pass or `release()`, then close.
- ``pass``: deliver as usual (with `before`, a hook run first: e.g. SIGSTOP the server so the request waits
  in its socket buffer, a server frozen mid-call).
- `freeze()` / `thaw()`: every request waits at the proxy until thawed, then is delivered (a frozen server
  as the client sees it).

Every request is logged (`Delivery`), so a test can wait for a late request to land and compare what the
server received with what the client believed.

Example:
    >>> proxy = FaultProxy("http://127.0.0.1:5000").start()  # doctest: +SKIP
    >>> proxy.arm("POST", "/registered-models/alias", "delay", seconds=3)  # doctest: +SKIP
    >>> MlflowModelRegistry(proxy.url, timeout_seconds=1, max_retries=0)  # doctest: +SKIP
"""

from __future__ import annotations

import http.client
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from collections.abc import Callable
from typing import Literal
from urllib.parse import urlsplit

Fault = Literal["delay", "hold_response", "drop", "pass"]
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}


@dataclass
class Rule:
    method: str
    path_contains: str
    fault: Fault
    seconds: float
    count: int
    skip: int = 0
    before: Callable[[], None] | None = None


@dataclass
class Delivery:
    """One request as the proxy handled it: when it arrived, what was done, when (if) the server got it."""

    method: str
    path: str
    body: bytes
    fault: str | None
    arrived: float
    delivered: float | None = None
    status: int | None = None
    answered: bool = False
    done: threading.Event = field(default_factory=threading.Event)


class FaultProxy:
    """A threaded HTTP proxy on 127.0.0.1 (a free port) to `upstream`; see the module docstring."""

    def __init__(self, upstream: str, *, upstream_timeout: float = 30.0) -> None:
        parts = urlsplit(upstream)
        self.upstream_host = parts.hostname or "127.0.0.1"
        self.upstream_port = parts.port or 80
        self.upstream_timeout = upstream_timeout
        self._rules: list[Rule] = []
        self._lock = threading.Lock()
        self._thawed = threading.Event()
        self._thawed.set()
        self._released = threading.Event()
        self.log: list[Delivery] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fault-proxy", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.thaw()
        self.release()
        self._server.shutdown()
        self._server.server_close()

    # --- faults ----------------------------------------------------------------------------------------------

    def arm(self, method: str, path_contains: str, fault: Fault, *, seconds: float = 0.0, count: int = 1,
            skip: int = 0, before: Callable[[], None] | None = None) -> None:
        """Apply `fault` to the next `count` requests with this method whose path contains `path_contains`,
        after letting `skip` of them through untouched; run `before` (if given) as each is handled."""
        with self._lock:
            self._released.clear()
            self._rules.append(Rule(method.upper(), path_contains, fault, seconds, count, skip, before))

    def disarm(self) -> None:
        with self._lock:
            self._rules.clear()

    def release(self) -> None:
        """Deliver every delayed request, let every held response go and close every dropped request, now."""
        self._released.set()

    def freeze(self) -> None:
        self._thawed.clear()

    def thaw(self) -> None:
        self._thawed.set()

    def _match(self, method: str, path: str) -> Rule | None:
        with self._lock:
            for rule in self._rules:
                if rule.count > 0 and rule.method == method and rule.path_contains in path:
                    if rule.skip > 0:
                        rule.skip -= 1
                        return None
                    rule.count -= 1
                    return rule
        return None

    def faulted(self) -> list[Delivery]:
        """The requests a fault was applied to (empty: the action failed before reaching the fault)."""
        with self._lock:
            return [d for d in self.log if d.fault is not None]

    def deliveries(self, method: str, path_contains: str) -> list[Delivery]:
        with self._lock:
            return [d for d in self.log if d.method == method and path_contains in d.path]

    # --- forwarding ------------------------------------------------------------------------------------------

    def _forward(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, list, bytes]:
        connection = http.client.HTTPConnection(self.upstream_host, self.upstream_port,
                                                timeout=self.upstream_timeout)
        try:
            connection.request(method, path, body=body or None, headers=headers)
            response = connection.getresponse()
            payload = response.read()
            return response.status, response.getheaders(), payload
        finally:
            connection.close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = 60

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet
                return

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
                rule = proxy._match(self.command, self.path)
                record = Delivery(self.command, self.path, body, rule.fault if rule else None, time.monotonic())
                with proxy._lock:
                    proxy.log.append(record)
                try:
                    proxy._thawed.wait(120)
                    if rule is not None and rule.before is not None:
                        rule.before()
                    if rule is not None and rule.fault == "drop":
                        proxy._released.wait(rule.seconds)
                        self.close_connection = True
                        return
                    if rule is not None and rule.fault == "delay":
                        proxy._released.wait(rule.seconds)
                    status, response_headers, payload = proxy._forward(self.command, self.path, headers, body)
                    record.delivered, record.status = time.monotonic(), status
                    if rule is not None and rule.fault == "hold_response":
                        proxy._released.wait(rule.seconds)
                    self.send_response(status)
                    for key, value in response_headers:
                        if key.lower() not in _HOP_BY_HOP and key.lower() != "content-length":
                            self.send_header(key, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    self.wfile.flush()
                    record.answered = True
                except OSError:
                    # The client gave up (timed out and closed): exactly the situation the faults create.
                    self.close_connection = True
                finally:
                    record.done.set()

            do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _handle

        return Handler
