"""haetae.http against real loopback servers (threads of this process) that redirect, stall, trickle and
return garbage, HTML or huge bodies. No test sends traffic beyond 127.0.0.1."""

from __future__ import annotations

import datetime
import ipaddress
import json
import pickle
import ssl
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from haetae.errors import UsageError
from haetae.http import HttpError, JsonClient, Origin, Secret, is_loopback_host

KEY = "sk-test-Secret-7f3a9c"
PAYLOAD = {"model": "tiny", "messages": [{"role": "user", "content": "hi"}]}


class Server:
    """A loopback server whose every reply is written by ``reply(handler)``; it records each request."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.requests: list[dict] = []
        self.reply: Callable[[BaseHTTPRequestHandler], None] = lambda h: send(h, 200, b'{"ok": true}')
        self.stop = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _any(self):
                length = int(self.headers.get("Content-Length") or 0)
                server.requests.append({"method": self.command, "path": self.path, "headers": dict(self.headers),
                                        "body": self.rfile.read(length)})
                try:
                    server.reply(self)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up first
                    pass

            do_GET = do_POST = do_PUT = _any

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        if tls:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> Server:
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()  # ends any handler still stalling
        self.httpd.shutdown()
        self.httpd.server_close()


def send(h: BaseHTTPRequestHandler, code: int, body: bytes, content_type: str = "application/json",
         **headers: str) -> None:
    h.send_response(code)
    h.send_header("Content-Type", content_type)
    h.send_header("Content-Length", str(len(body)))
    for name, value in headers.items():
        h.send_header(name, value)
    h.end_headers()
    h.wfile.write(body)


@pytest.fixture
def first():
    with Server() as s:
        yield s


@pytest.fixture
def second():
    with Server() as s:
        yield s


def client(server: Server, **kw) -> JsonClient:
    return JsonClient(server.url, bearer_token=KEY, **{"timeout": 2.0, **kw})


def test_a_json_reply_is_parsed_and_the_key_sent_as_a_bearer_token(first):
    first.reply = lambda h: send(h, 200, b'{"choices": []}', "application/json; charset=utf-8")
    assert client(first).post_json(first.url + "/v1/chat/completions", PAYLOAD) == {"choices": []}
    (req,) = first.requests
    assert req["method"] == "POST" and req["headers"]["Authorization"] == f"Bearer {KEY}"
    assert json.loads(req["body"]) == PAYLOAD and req["headers"]["Content-Type"] == "application/json"


@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
def test_no_redirect_is_followed(first, second, code):
    first.reply = lambda h: send(h, code, b"", Location=second.url + "/steal?x=1")
    with pytest.raises(HttpError) as err:
        client(first).post_json(first.url + "/v1", PAYLOAD)
    assert second.requests == [] and len(first.requests) == 1
    assert err.value.status == code and not err.value.retryable
    assert f"HTTP {code}: the server redirects to {Origin.of(second.url)};" in str(err.value) and "/steal" not in str(err.value)
    assert KEY not in str(err.value)


def test_a_redirect_to_the_same_origin_is_not_followed_either(first):
    first.reply = lambda h: send(h, 302, b"", Location="/login")
    with pytest.raises(HttpError, match=r"HTTP 302: the server redirects to http://127\.0\.0\.1:\d+;"):
        client(first).post_json(first.url + "/v1", PAYLOAD)
    assert len(first.requests) == 1


def test_a_request_for_another_origin_is_refused_before_sending(first, second):
    with pytest.raises(HttpError, match="bound to http://127.0.0.1"):
        client(first).post_json(second.url + "/v1", PAYLOAD)
    assert second.requests == [] and first.requests == []


def test_plain_http_proxy_from_the_environment_is_not_used(first, second, monkeypatch):
    """An http:// proxy would read the Authorization header; requests go straight to the origin."""
    monkeypatch.setenv("http_proxy", second.url)
    monkeypatch.setenv("HTTP_PROXY", second.url)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    assert client(first).post_json(first.url + "/v1", PAYLOAD) == {"ok": True}
    assert second.requests == [] and len(first.requests) == 1


@pytest.mark.parametrize("host, loopback", [
    ("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("[::1]", True), ("localhost", True),
    ("LocalHost", True), ("192.0.2.1", False), ("10.0.0.1", False), ("0.0.0.0", False), ("example.com", False),
    ("localhost.example.com", False), ("127.0.0.1.nip.io", False),
])
def test_loopback_hosts(host, loopback):
    assert is_loopback_host(host) is loopback


@pytest.mark.parametrize("url", ["http://192.0.2.1:8000/v1", "http://example.com/v1", "http://[2001:db8::1]:80"])
def test_key_over_plain_http_beyond_loopback_is_refused_unless_opted_in(url):
    with pytest.raises(UsageError, match="refusing to send the API key over plain http://") as err:
        JsonClient(url, bearer_token=KEY, setting="--base-url")
    assert "--allow-insecure-http" in str(err.value) and KEY not in str(err.value)
    assert "\n" not in str(err.value)
    assert JsonClient(url, bearer_token=KEY, allow_insecure_http=True).origin == Origin.of(url)
    assert JsonClient(url).origin == Origin.of(url)  # no credential: nothing to protect
    assert JsonClient(url.replace("http://", "https://"), bearer_token=KEY).origin.scheme == "https"


@pytest.mark.parametrize("url, message", [
    ("ftp://127.0.0.1/v1", "must start with http:// or https://"),
    ("http:///v1", "has no host"),
    ("http://127.0.0.1:port/v1", "127.0.0.1:port"),
    (f"https://user:{KEY}@api.example.com/v1", "must not hold user:password@"),
])
def test_unusable_urls_are_one_line_usage_errors(url, message):
    with pytest.raises(UsageError, match=message) as err:
        JsonClient(url, bearer_token="k", setting="--base-url")
    assert KEY not in str(err.value) and str(err.value).startswith("--base-url")


@pytest.mark.parametrize("token", [f"{KEY}\r\nX-Evil: 1", f" {KEY}", f"{KEY}é"])
def test_a_key_that_would_break_the_header_is_refused_without_echoing_it(token):
    with pytest.raises(UsageError, match="spaces, line breaks or non-ASCII") as err:
        JsonClient("http://127.0.0.1:9", bearer_token=token)
    assert KEY not in str(err.value)


def test_the_key_is_in_no_repr_and_is_never_pickled():
    c = JsonClient("https://api.example.com/v1", bearer_token=KEY)
    assert KEY not in repr(c) and KEY not in str(vars(c)) and "credential=set" in repr(c)
    assert KEY not in repr(Secret(KEY)) and KEY not in str(Secret(KEY))
    with pytest.raises(TypeError, match="not pickled"):
        pickle.dumps(c)


def test_a_server_echoing_the_key_has_it_masked_in_the_error(first):
    first.reply = lambda h: send(h, 401, json.dumps({"error": f"Incorrect API key {KEY}"}).encode())
    with pytest.raises(HttpError, match=r"HTTP 401: .*Incorrect API key \*\*\*") as err:
        client(first).post_json(first.url + "/v1", PAYLOAD)
    assert KEY not in str(err.value) and not err.value.retryable
    first.reply = lambda h: send(h, 200, f"<html>{KEY}</html>".encode(), "text/html")
    with pytest.raises(HttpError, match=r"not JSON \(Content-Type text/html\)") as err:
        client(first).post_json(first.url + "/v1", PAYLOAD)
    assert KEY not in str(err.value)
    first.reply = lambda h: send(h, 200, ("x" * 110 + KEY).encode())  # the excerpt's cut falls inside the key
    with pytest.raises(HttpError, match=r"not JSON \(Expecting value") as err:
        client(first).post_json(first.url + "/v1", PAYLOAD)
    assert KEY[:6] not in str(err.value) and "***" in str(err.value)


@pytest.mark.parametrize("content_type, body, message", [
    ("text/html", b"<!doctype html><html><body>Sign in</body></html>", r"not JSON \(Content-Type text/html\)"),
    ("", b'{"choices": []}', r"not JSON \(Content-Type missing\)"),
    ("application/json", b"<html><body>Sign in</body></html>", r"not JSON \(Expecting value"),
    ("application/json", bytes(range(256)) * 4, r"not JSON \("),
    ("application/json", b'{"choices": [', r"not JSON \("),
])
def test_replies_that_are_not_json_are_rejected(first, content_type, body, message):
    def reply(h):
        h.send_response(200)
        if content_type:
            h.send_header("Content-Type", content_type)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    first.reply = reply
    with pytest.raises(HttpError, match=message) as err:
        client(first).post_json(first.url + "/v1", PAYLOAD)
    assert not err.value.retryable


def test_a_huge_declared_body_is_not_read(first):
    def reply(h):
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(10 ** 12))
        h.end_headers()
        for _ in range(64):  # would be 64 MiB if the client kept reading
            h.wfile.write(b" " * 2 ** 20)

    first.reply = reply
    start = time.monotonic()
    with pytest.raises(HttpError, match=r"response of 1000000000000 bytes is over the 65536-byte limit; not read"):
        client(first, max_response_bytes=65536).post_json(first.url + "/v1", PAYLOAD)
    assert time.monotonic() - start < 1.5


def test_a_huge_body_without_length_stops_at_the_limit(first):
    chunks = []

    def reply(h):
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Connection", "close")
        h.end_headers()
        for _ in range(256):  # 256 MiB of '[' if the client read it all
            h.wfile.write(b"[" * 2 ** 20)
            chunks.append(1)

    first.reply = reply
    with pytest.raises(HttpError, match=r"response is over the 1048576-byte limit; not read further"):
        client(first, max_response_bytes=2 ** 20).post_json(first.url + "/v1", PAYLOAD)
    first.stop.wait(0.2)
    assert len(chunks) < 64  # the server was stopped by the closed connection, far short of 256 MiB


def test_a_stalling_server_hits_the_timeout(first):
    first.reply = lambda h: first.stop.wait(5)
    start = time.monotonic()
    with pytest.raises(HttpError, match=r"timed out after 0.3 s") as err:
        client(first, timeout=0.3).post_json(first.url + "/v1", PAYLOAD)
    assert err.value.retryable and time.monotonic() - start < 1.0


def test_a_trickling_server_hits_the_timeout_of_the_whole_request(first):
    """One byte every 0.05 s never trips a 0.3 s socket timeout; the request deadline still ends it."""
    def reply(h):
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.end_headers()
        h.wfile.flush()
        for _ in range(60):  # 3 s of whitespace, then the connection closes
            if first.stop.wait(0.05):
                break
            h.wfile.write(b" ")
            h.wfile.flush()

    first.reply = reply
    start = time.monotonic()
    with pytest.raises(HttpError, match=r"timed out after 0.3 s"):
        client(first, timeout=0.3).post_json(first.url + "/v1", PAYLOAD)
    assert time.monotonic() - start < 1.0


def test_a_refused_connection_is_retryable_and_names_no_key():
    with Server() as gone:
        url = gone.url
    with pytest.raises(HttpError, match="connection failed") as err:
        JsonClient(url, bearer_token=KEY, timeout=1).post_json(url + "/v1", PAYLOAD)
    assert err.value.retryable and KEY not in str(err.value)


def self_signed_context(folder) -> ssl.SSLContext:
    """A server context with a fresh self-signed certificate for 127.0.0.1 (trusted by no one)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                       serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    return context


def test_an_untrusted_tls_server_gets_no_request_and_no_key(tmp_path):
    with Server(tls=self_signed_context(tmp_path)) as untrusted:
        with pytest.raises(HttpError, match="TLS certificate not trusted: self-signed certificate") as err:
            client(untrusted).post_json(untrusted.url + "/v1", PAYLOAD)
        assert untrusted.requests == [] and not err.value.retryable and KEY not in str(err.value)
