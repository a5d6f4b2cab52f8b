"""The OpenAI-compatible backend against a loopback HTTP server started by the test itself."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from haetae.taxonomy.backends import BackendError, ChatBackend, RateLimiter, chat_completions_url
from haetae.taxonomy.generate import GenerateConfig, generate
from haetae.taxonomy.items import ItemConfig
from haetae.taxonomy.loader import load_taxonomy

from .conftest import MINI


class FakeServer:
    """/v1/chat/completions on 127.0.0.1; ``script`` is a list of behaviours consumed per request
    ("ok", "slow", "malformed", "500", "400", "no_choices", "html", "echo_key_401", "redirect_301" ... to
    ``redirect_to``); when empty, "ok". Every request of any method is recorded with its headers."""

    def __init__(self) -> None:
        self.script: list[str] = []
        self.requests: list[dict] = []
        self.redirect_to = ""
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                server.requests.append({"method": "GET", "path": self.path, "body": None,
                                        "auth": self.headers.get("Authorization"), "headers": dict(self.headers)})
                self._send(200, b'<html><body>Sign in</body></html>', "text/html")

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append({"method": "POST", "path": self.path, "body": body,
                                        "auth": self.headers.get("Authorization"), "headers": dict(self.headers)})
                behaviour = server.script.pop(0) if server.script else "ok"
                if behaviour.startswith("redirect_"):
                    self.send_response(int(behaviour.removeprefix("redirect_")))
                    self.send_header("Location", server.redirect_to)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if behaviour == "slow":
                    time.sleep(0.6)
                if behaviour in ("500", "400"):
                    self._send(int(behaviour), b'{"error": "boom"}')
                elif behaviour == "malformed":
                    self._send(200, b'{"choices": [')
                elif behaviour == "refuse":
                    reply = {"choices": [{"message": {"role": "assistant", "content": "No."}}]}
                    self._send(200, json.dumps(reply).encode())
                elif behaviour == "html":
                    self._send(200, b"<!doctype html><html><body>Please log in</body></html>", "text/html")
                elif behaviour == "echo_key_401":
                    auth = self.headers.get("Authorization", "")
                    self._send(401, json.dumps({"error": f"Incorrect API key provided: {auth[7:]}"}).encode())
                elif behaviour == "no_choices":
                    self._send(200, b'{"object": "chat.completion", "choices": []}')
                else:
                    user = body["messages"][-1]["content"]
                    reply = {"choices": [{"index": 0, "finish_reason": "stop",
                                          "message": {"role": "assistant", "content": f"[v] {user}"}}]}
                    self._send(200, json.dumps(reply).encode())

            def _send(self, code: int, data: bytes, content_type: str = "application/json"):
                try:
                    self.send_response(code)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client timed out first
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    with FakeServer() as s:
        yield s


def backend(server, tmp_path=None, **kw) -> ChatBackend:
    opts = {"timeout": 0.3, "max_retries": 2, "backoff": 0.01, **kw}
    return ChatBackend(base_url=server.url, model="tiny", api_key="k", cache_dir=str(tmp_path) if tmp_path else None, **opts)


def test_url_forms():
    assert chat_completions_url("http://h:8000") == "http://h:8000/v1/chat/completions"
    assert chat_completions_url("http://h:8000/v1/") == "http://h:8000/v1/chat/completions"


def test_normal_response(server):
    b = backend(server)
    assert b.paraphrase("tell me about dams", "en") == "[v] tell me about dams"
    req = server.requests[0]
    assert req["path"] == "/v1/chat/completions" and req["body"]["model"] == "tiny" and req["auth"] == "Bearer k"
    assert "English" in req["body"]["messages"][0]["content"]


def test_timeout_retries_then_fails_clearly(server):
    server.script = ["slow", "slow", "slow"]
    with pytest.raises(BackendError, match=r"giving up after 3 attempt\(s\); last error: timed out after 0.3 s"):
        backend(server).complete([{"role": "user", "content": "hi"}])
    assert len(server.requests) == 3


def test_malformed_json_is_a_clear_error(server):
    server.script = ["malformed"]
    with pytest.raises(BackendError, match="malformed response, not JSON"):
        backend(server).complete([{"role": "user", "content": "hi"}])
    server.script = ["no_choices"]
    with pytest.raises(BackendError, match=r"no choices\[0\].message.content"):
        backend(server).complete([{"role": "user", "content": "hi"}])


def test_500_then_success_is_retried(server):
    server.script = ["500", "ok"]
    b = backend(server)
    assert b.complete([{"role": "user", "content": "hi"}]) == "[v] hi"
    assert b.requests_sent == 2


def test_400_is_not_retried(server):
    server.script = ["400"]
    with pytest.raises(BackendError, match="HTTP 400"):
        backend(server).complete([{"role": "user", "content": "hi"}])
    assert len(server.requests) == 1


def test_cache_hit_sends_no_request(server, tmp_path):
    msgs = [{"role": "user", "content": "같은 질문"}]
    assert backend(server, tmp_path).complete(msgs) == "[v] 같은 질문"
    fresh = backend(server, tmp_path)  # a new process would see the same disk cache
    assert fresh.complete(msgs) == "[v] 같은 질문"
    assert len(server.requests) == 1 and fresh.cache_hits == 1 and fresh.requests_sent == 0


def test_rate_limiter_spaces_requests():
    limiter = RateLimiter(per_second=50)
    start = time.monotonic()
    for _ in range(6):
        limiter.acquire()
    assert time.monotonic() - start >= 5 / 50 * 0.9


def test_generate_with_http_backend(server, tmp_path):
    b = backend(server, tmp_path / "cache")
    server.script = ["refuse"]  # the first paraphrase is a refusal: the template text stays
    cfg = GenerateConfig(items=ItemConfig(languages=("en",), per_area=3, eval_per_area=2, seed=1), audit="off", workers=2)
    manifest = generate(load_taxonomy(MINI), tmp_path / "out", cfg, b, log=lambda m: None)
    rows = [json.loads(line) for line in (tmp_path / "out" / "train_sft.jsonl").open(encoding="utf-8")]
    varied = [r for r in rows if r["source"] == "openai:tiny"]
    assert varied and all(r["messages"][-2]["content"].startswith("[v] ") for r in varied)
    benign = [r for r in rows if r["kind"] == "benign"]
    assert benign and all(r["messages"][-1]["content"].startswith("[v] ") for r in benign)
    assert manifest["backend"]["requests"] == len(server.requests) > 0
    assert manifest["steps"]["vary"]["implausible_kept_template"] == 1
    assert not any(r["messages"][-2]["content"] == "No." for r in rows)


# ------------------------------------------------------------------------------------ credential safety

KEY = "sk-test-Secret-7f3a9c"


@pytest.fixture
def second():
    """Another loopback server, another origin: it must never see the key."""
    with FakeServer() as s:
        yield s


@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
def test_redirect_is_not_followed_and_the_key_stays_home(server, second, code):
    server.script = [f"redirect_{code}"]
    server.redirect_to = second.url + "/chat/completions"
    b = ChatBackend(base_url=server.url, model="tiny", api_key=KEY, timeout=2, max_retries=2, backoff=0.01)
    with pytest.raises(BackendError) as err:
        b.complete([{"role": "user", "content": "hi"}])
    assert second.requests == []
    assert len(server.requests) == 1  # a redirect is not retried either
    message = str(err.value)
    assert f"HTTP {code}" in message and "redirect" in message and second.url.removesuffix("/v1") in message
    assert KEY not in message


def test_key_absent_from_repr():
    b = ChatBackend(base_url="http://127.0.0.1:9/v1", model="tiny", api_key=KEY)
    assert KEY not in repr(b) and KEY not in str(vars(b))
