"""A local HTTP receiver standing in for WeCom / DingTalk robots and plain JSON webhooks."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class WebhookReceiver:
    """Records every POST body per path on 127.0.0.1. ``fail_next[path] = n`` answers the next n
    posts with ``fail_status``; ``robot_error[path] = code`` answers 200 with that errcode."""

    def __init__(self) -> None:
        self.posts: dict[str, list[dict]] = {}
        self.attempts: dict[str, int] = {}
        self.fail_next: dict[str, int] = {}
        self.fail_status = 500
        self.robot_error: dict[str, int] = {}
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status, answer = receiver._answer(self.path, body)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(json.dumps(answer).encode())

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def _answer(self, path: str, body: bytes) -> tuple[int, dict]:
        with self._lock:
            self.attempts[path] = self.attempts.get(path, 0) + 1
            if self.fail_next.get(path, 0) > 0:
                self.fail_next[path] -= 1
                return self.fail_status, {"error": "injected"}
            if path in self.robot_error:
                return 200, {"errcode": self.robot_error[path], "errmsg": "injected robot error"}
            self.posts.setdefault(path, []).append(json.loads(body))
            return 200, {"errcode": 0, "errmsg": "ok"}

    def url(self, path: str) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{path}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
