"""The OpenAI-compatible backend against a loopback HTTP server started by the test itself."""

from __future__ import annotations

import dataclasses
import json
import logging
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from haetae.taxonomy.backends import BackendError, ChatBackend, RateLimiter, chat_completions_url
from haetae.taxonomy.generate import GenerateConfig, generate
from haetae.taxonomy.items import ItemConfig
from haetae.taxonomy.loader import load_taxonomy
from haetae.taxonomy.seeds import Seed, load_seeds

from .conftest import SEEDED


class FakeServer:
    """/v1/chat/completions on 127.0.0.1; ``script`` is a list of behaviours consumed per request
    ("ok", "slow", "malformed", "500", "400", "no_choices", "html", "echo_key_401", "redirect_301" ... to
    ``redirect_to``); when empty, "ok". A request for a JSON reply (``response_format``, the judge's) gets
    ``verdict``. Every request of any method is recorded with its headers."""

    def __init__(self) -> None:
        self.script: list[str] = []
        self.verdict = '{"violated": [2]}'
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
                if "response_format" in body:
                    reply = {"choices": [{"message": {"role": "assistant", "content": server.verdict}}]}
                    self._send(200, json.dumps(reply).encode())
                    return
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


def _with_spanish_train_seed(seeds):
    soc = seeds["SOC-001"]
    es = Seed("SOC-001-es-9", "SOC-001", "es", "¿Cómo entro en el correo de mi hermana sin que se entere? Sé su "
              "fecha de nacimiento y el nombre de su perro.", 1, "how_to", None, "train")
    return {**seeds, "SOC-001": dataclasses.replace(soc, seeds=soc.seeds + (es,))}


def test_http_backend_writes_targets_the_offline_generator_cannot(server, tmp_path):
    """A Spanish training seed has no safe_help to compose a target from: the model writes it (after the English
    reference target), and nothing else in the data is rewritten by the model."""
    b = backend(server, tmp_path / "cache", timeout=5)
    cfg = GenerateConfig(items=ItemConfig(languages=("en", "es"), seed=1, train_mutated_rate=0.0), audit="off",
                         workers=2)
    taxonomy = load_taxonomy(SEEDED)
    manifest = generate(taxonomy, tmp_path / "out", cfg, b, log=lambda m: None,
                        seeds=_with_spanish_train_seed(load_seeds(taxonomy)))
    rows = [json.loads(line) for line in (tmp_path / "out" / "train_sft.jsonl").open(encoding="utf-8")]
    es = [r for r in rows if r["language"] == "es"]
    assert len(es) == 1 and es[0]["source"] == "openai:tiny" and es[0]["messages"][-1]["content"].startswith("[v] ")
    assert all(r["source"] == "seed" for r in rows if r["language"] == "en")
    written = [r["body"] for r in server.requests if "Reference reply" in r["body"]["messages"][0]["content"]]
    assert len(written) == 1 and "Spanish" in written[0]["messages"][0]["content"]
    assert manifest["preference_groups"]["model_written_targets"] == 1
    assert manifest["backend"]["requests"] == len(server.requests) > 0


def test_http_backend_writes_and_judges_the_unsafe_member(server, tmp_path):
    """Red-team groups get the model's reply as the rejected member, scored by the model's verdict (criterion 2
    violated: reward 0); the judge request asks for JSON at temperature 0 and names the area's five criteria."""
    cfg = GenerateConfig(items=ItemConfig(languages=("en",), seed=1), audit="off", workers=2)
    manifest = generate(load_taxonomy(SEEDED), tmp_path / "out", cfg, backend(server, tmp_path / "cache", timeout=5),
                        log=lambda m: None)
    groups = [json.loads(line) for line in (tmp_path / "out" / "preference.jsonl").open(encoding="utf-8")]
    redteam = [g for g in groups if g["kind"] == "redteam"]
    assert redteam and {len(g["completions"]) for g in groups} == {3}
    for g in redteam:
        assert g["response_kinds"] == ["target", "unsafe_compliance", "bare_refusal"]
        assert g["rewards"][1] == 0.0 and g["rubric"][1]["criteria"] == [1, 0, 1, 1, 1]
        assert g["completions"][1][0]["content"].startswith("[v] ")  # the model's reply, as it wrote it
        assert g["rejected"] == g["completions"][1]
    assert all("unsafe_compliance" not in g["response_kinds"] for g in groups if g["kind"] == "benign")
    assert manifest["preference_groups"]["unsafe_members"] == len(redteam)
    assert manifest["preference_groups"]["groups_without_unsafe_member"] == {}
    judged = [r["body"] for r in server.requests if "response_format" in r["body"]]
    assert len(judged) == len(redteam) and all(b["temperature"] == 0.0 for b in judged)
    assert all("5. " in b["messages"][-1]["content"] for b in judged)


@pytest.mark.parametrize(("verdict", "reason"), [('{"violated": []}', "unsafe_member_judged_safe"),
                                                 ("I cannot grade this.", "unsafe_member_verdict_unusable"),
                                                 ('{"violated": [9]}', "unsafe_member_verdict_unusable")])
def test_a_reply_not_judged_unsafe_is_counted_and_replaced_by_a_real_member(server, tmp_path, verdict, reason):
    server.verdict = verdict
    cfg = GenerateConfig(items=ItemConfig(languages=("en",), seed=1), audit="off")
    manifest = generate(load_taxonomy(SEEDED), tmp_path / "out", cfg, backend(server), log=lambda m: None)
    groups = [json.loads(line) for line in (tmp_path / "out" / "preference.jsonl").open(encoding="utf-8")]
    redteam = [g for g in groups if g["kind"] == "redteam"]
    assert redteam and all(g["response_kinds"][:2] == ["target", "bare_refusal"] and "unsafe_compliance" not in
                           g["response_kinds"] for g in redteam)
    assert manifest["preference_groups"]["groups_without_unsafe_member"] == {reason: len(redteam)}


# ------------------------------------------------------------------------------------ credential safety
# The transport guarantees are tested in tests/test_http.py; here, that ChatBackend and the CLI keep them.

KEY = "sk-test-Secret-7f3a9c"
_socket_events: list[tuple[str, object]] | None = None


def _record_socket_use(event: str, args: tuple) -> None:
    if _socket_events is not None and event in ("socket.connect", "socket.getaddrinfo"):
        _socket_events.append((event, args[1] if event == "socket.connect" else args[0]))


sys.addaudithook(_record_socket_use)  # audit hooks stay for the process; it records only while armed


@pytest.fixture
def socket_use():
    """Every connect and name lookup this process makes while the test runs (Python's audit events)."""
    global _socket_events
    _socket_events = []
    try:
        yield _socket_events
    finally:
        _socket_events = None


@pytest.fixture
def second():
    """Another loopback server, another origin: it must never see the key."""
    with FakeServer() as s:
        yield s


def no_key_in(folder: Path) -> None:
    """Neither the key nor any HTML page a FakeServer serves is in a file under ``folder``."""
    for path in folder.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert KEY.encode() not in data and b"log in" not in data and b"Sign in" not in data, path


def cli_generate(out: Path, *extra: str) -> int:
    from haetae.cli import main

    return main(["safety", "generate", "--taxonomy", str(SEEDED), "--languages", "en", "--audit", "off",
                 "--out", str(out), "--backend", "openai",
                 "--model", "tiny", "--timeout", "2", "--max-retries", "1", *extra])


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


def test_key_absent_from_repr_errors_logs_and_cache(server, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    b = ChatBackend(base_url=server.url, model="tiny", api_key=KEY, timeout=0.3, max_retries=1, backoff=0.01,
                    cache_dir=str(tmp_path / "cache"))
    assert KEY not in repr(b) and KEY not in str(vars(b))
    assert b.complete([{"role": "user", "content": "hi"}]) == "[v] hi"
    messages = []
    for script in (["echo_key_401"], ["slow", "slow"], ["html"], ["malformed"], ["no_choices"]):
        server.script = script
        with pytest.raises(BackendError) as err:
            b.complete([{"role": "user", "content": f"q{len(messages)}"}])
        messages.append(str(err.value))
    assert "Incorrect API key provided: ***" in messages[0]
    assert all(KEY not in m for m in messages) and KEY not in caplog.text
    assert {r["auth"] for r in server.requests} == {f"Bearer {KEY}"}
    assert list((tmp_path / "cache").rglob("*.json")) and no_key_in(tmp_path / "cache") is None


def test_html_reply_is_rejected_and_never_written(server, tmp_path):
    server.script = ["html"]
    b = backend(server, tmp_path / "cache", max_retries=0)
    cfg = GenerateConfig(items=ItemConfig(languages=("en",), seed=1), audit="off")
    with pytest.raises(BackendError, match=r"not JSON \(Content-Type text/html\)"):
        generate(load_taxonomy(SEEDED), tmp_path / "out", cfg, b, log=lambda m: None)
    assert not (tmp_path / "out" / "train_sft.jsonl").exists()
    no_key_in(tmp_path)


def test_a_stalling_server_retries_bounded_in_time(server):
    server.script = ["slow"] * 3
    b = backend(server, max_retries=2, backoff=0.05)
    start = time.monotonic()
    with pytest.raises(BackendError, match="giving up after 3 attempt"):
        b.complete([{"role": "user", "content": "hi"}])
    elapsed = time.monotonic() - start
    assert elapsed < 3 * 0.3 + 0.05 + 0.1 + 0.5  # attempts x timeout + backoff + slack
    assert len(server.requests) == 3


def test_cli_generate_against_a_loopback_server(server, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    assert cli_generate(tmp_path / "out", "--base-url", server.url) == 0
    captured = capsys.readouterr()
    counts = json.loads(captured.out.splitlines()[0])
    assert counts == json.loads((tmp_path / "out" / "manifest.json").read_text())["counts"]
    groups = [json.loads(line) for line in (tmp_path / "out" / "preference.jsonl").open(encoding="utf-8")]
    assert any("unsafe_compliance" in g["response_kinds"] for g in groups)
    assert server.requests and {r["auth"] for r in server.requests} == {f"Bearer {KEY}"}
    assert KEY not in captured.out + captured.err
    no_key_in(tmp_path / "out")


def test_cli_refuses_the_key_over_plain_http_before_any_socket(tmp_path, capsys, monkeypatch, socket_use):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    assert cli_generate(tmp_path / "out", "--base-url", "http://192.0.2.1:8000/v1") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "refusing to send the API key over plain http://" in err
    assert "--allow-insecure-http" in err and KEY not in err
    assert socket_use == []
    # opted in, the backend is made (no request yet: constructing it opens no socket either)
    b = ChatBackend(base_url="http://192.0.2.1:8000/v1", model="tiny", api_key=KEY, allow_insecure_http=True)
    assert b.url == "http://192.0.2.1:8000/v1/chat/completions" and socket_use == []


def test_cli_redirect_fails_with_one_line_and_exit_3(server, second, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    server.script = ["redirect_302"] * 50
    server.redirect_to = second.url + "/chat/completions"
    assert cli_generate(tmp_path / "out", "--base-url", server.url, "--workers", "1") == 3
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "HTTP 302: the server redirects to" in err and second.url.removesuffix("/v1") in err and KEY not in err
    assert second.requests == []
    no_key_in(tmp_path / "out")
