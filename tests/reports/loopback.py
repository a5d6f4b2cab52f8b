"""A scripted OpenAI-compatible chat server on 127.0.0.1 for judge and endpoint tests.

``script`` holds one behaviour per request, consumed in order (then ``default``): a string is the assistant's
content; ``"500"``/``"503"`` answer that status; ``"stall"`` sleeps ``stall_seconds`` before answering;
``"garbage"`` sends a body that is not JSON. Every request body is recorded.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class ScriptedChatServer:
    def __init__(self, default: str = "ok") -> None:
        self.script: list[str] = []
        self.default = default
        self.stall_seconds = 1.5
        self.requests: list[dict] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
                server.requests.append(body)
                behaviour = server.script.pop(0) if server.script else server.default
                if behaviour == "stall":
                    time.sleep(server.stall_seconds)
                    behaviour = server.default
                if behaviour in ("500", "502", "503"):
                    return self._send(int(behaviour), b'{"error": {"message": "overloaded"}}')
                if behaviour == "garbage":
                    return self._send(200, b"<html>proxy error</html>")
                reply = {"id": "cmpl-1", "object": "chat.completion", "created": 0, "model": body.get("model", "m"),
                         "choices": [{"index": 0, "finish_reason": "stop",
                                      "message": {"role": "assistant", "content": behaviour}}],
                         "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}
                self._send(200, json.dumps(reply).encode())

            def _send(self, status: int, data: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> ScriptedChatServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
