"""Helpers of the tests: fake HTTP servers and the environment of the
server tests.

The tests that need a running IMS read its address from O2IMS_ENDPOINT
(and the TLS/OIDC server's from O2IMS_TEST_SECURE_*), as
clients/python/python_test.go sets them. Without them they are skipped,
unless O2IMS_TEST_STRICT=1 (which python_test.go sets): then they fail.
"""

from __future__ import annotations

import json
import os
import queue
import threading
import unittest
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

STRICT = os.environ.get("O2IMS_TEST_STRICT") == "1"


def require_env(*names: str) -> list[str]:
    """The values of the environment variables ``names``; a skip (or, in
    strict mode, a failure) when one is missing."""
    missing = [n for n in names if not os.environ.get(n)]
    if missing:
        msg = f"set {', '.join(missing)} to run these tests (clients/python/python_test.go does)"
        if STRICT:
            raise AssertionError(msg)
        raise unittest.SkipTest(msg)
    return [os.environ[n] for n in names]


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body.decode())


@dataclass
class Answer:
    status: int = 200
    body: Any = b""
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Request], "Answer | None"]


class FakeServer:
    """An HTTP server on 127.0.0.1 that records every request and answers
    with ``handler(request)``."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[Request] = []
        self.received: queue.Queue[Request] = queue.Queue()
        outer = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                req = Request(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                outer.requests.append(req)
                outer.received.put(req)
                ans = outer.handler(req)
                if ans is None:  # drop the connection without an answer
                    self.close_connection = True
                    return
                data = ans.body
                if not isinstance(data, (bytes, bytearray)):
                    data = json.dumps(data).encode()
                    ans.headers.setdefault("Content-Type", "application/json")
                self.send_response(ans.status)
                for k, v in ans.headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

        self._srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self._srv.daemon_threads = True
        self._thread = threading.Thread(target=self._srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        host, port = self._srv.server_address[:2]
        self.url = f"http://{host}:{port}"

    def close(self) -> None:
        self._srv.shutdown()
        self._srv.server_close()

    def wait_for(self, cond: Callable[[Request], bool], timeout: float) -> Request:
        """The first request received from now on that satisfies cond."""
        while True:
            try:
                req = self.received.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"no matching request within {timeout}s") from None
            if cond(req):
                return req


_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def post_json(url: str, body: Any) -> tuple[int, Any]:
    """POST body as JSON with plain urllib (no proxy), for what the client
    does not do, such as feeding the server an Alertmanager alert."""
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with _DIRECT.open(req, timeout=10) as res:
        data = res.read()
        return res.status, json.loads(data) if data else None


def free_port_url() -> str:
    """The URL of a loopback port nothing listens on."""
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}"
