"""Local HTTP receivers standing in for WeCom / DingTalk robots and plain JSON webhooks.

Real sockets on 127.0.0.1, no mocks of HTTP. Per path (the query is ignored, as a robot's key
would be):

* ``fail_next[path] = n``: the next n requests are answered ``fail_status`` (500);
* ``robot_error[path] = code``: answered 200 with that ``errcode``; ``robot_error_next[path] = n``
  limits it to the next n requests;
* ``slow[path] = seconds``: the request is read (the robot has it), then the answer waits;
* ``drop[path] = True``: the request is read, then the connection is closed without an answer.

``received[path]`` holds every request read (headers and body), whatever the answer;
``posts[path]`` the bodies answered with success; ``raw_bodies`` every body as bytes.
"""

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


class WebhookReceiver:
    def __init__(self) -> None:
        self.posts: dict[str, list[dict]] = {}
        self.received: dict[str, list[tuple[dict, dict]]] = {}
        self.raw_bodies: list[bytes] = []
        self.attempts: dict[str, int] = {}
        self.fail_next: dict[str, int] = {}
        self.fail_status = 500
        self.robot_error: dict[str, int] = {}
        self.robot_error_next: dict[str, int] = {}
        self.slow: dict[str, float] = {}
        self.drop: dict[str, bool] = {}
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                path = urlsplit(self.path).path
                action, status, answer = receiver._answer(path, dict(self.headers.items()), body)
                if action == "drop":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if action == "slow":
                    time.sleep(receiver.slow[path])
                data = json.dumps(answer).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the client gave up waiting
                    pass

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def _answer(self, path: str, headers: dict, body: bytes) -> tuple[str, int, dict]:
        with self._lock:
            self.attempts[path] = self.attempts.get(path, 0) + 1
            self.raw_bodies.append(body)
            payload = json.loads(body) if body else {}
            self.received.setdefault(path, []).append((headers, payload))
            if self.drop.get(path):
                return "drop", 0, {}
            if self.fail_next.get(path, 0) > 0:
                self.fail_next[path] -= 1
                return "answer", self.fail_status, {"error": "injected"}
            if path in self.robot_error:
                left = self.robot_error_next.get(path)
                if left is None or left > 0:
                    if left is not None:
                        self.robot_error_next[path] = left - 1
                    return "answer", 200, {"errcode": self.robot_error[path], "errmsg": "injected robot error"}
            self.posts.setdefault(path, []).append(payload)
            return ("slow" if self.slow.get(path) else "answer"), 200, {"errcode": 0, "errmsg": "ok"}

    def url(self, path: str) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{path}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def closed_port_url(path: str = "/hook") -> str:
    """A URL on 127.0.0.1 where nothing listens: connection refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"


class Blackhole:
    """A local address whose connects time out: a listening socket that never accepts, with its
    backlog filled, so the kernel drops further SYNs (as a firewalled host does)."""

    def __init__(self) -> None:
        self._server = socket.socket()
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(0)
        self.port = self._server.getsockname()[1]
        self._fillers = []
        for _ in range(4):
            filler = socket.socket()
            filler.setblocking(False)
            try:
                filler.connect(("127.0.0.1", self.port))
            except BlockingIOError:
                pass
            self._fillers.append(filler)
        time.sleep(0.1)

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        for sock in [*self._fillers, self._server]:
            sock.close()
