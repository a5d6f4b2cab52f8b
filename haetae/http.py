"""HTTP for every client Haetae has: a credential goes to the configured origin and nowhere else.

A :class:`JsonClient` is bound to one origin (scheme, host, port) when it is made, and its guarantees hold for
every request it sends:

- no redirect is ever followed (a 3xx is an :class:`HttpError` naming the ``Location`` origin), so an
  ``Authorization`` header cannot be replayed to a second server, and a request for another origin is refused;
- a credential over plain ``http://`` is refused when the client is made, before any socket is opened, unless
  the host is loopback (127.0.0.0/8, ::1, ``localhost``) or the caller opts in (``allow_insecure_http``, the
  command line's ``--allow-insecure-http``); environment proxies are used for ``https://`` only (a CONNECT
  tunnel, the header stays inside TLS), never for plain HTTP, where the proxy would read it;
- the credential is a :class:`Secret`: it never appears in a repr, a log record or an error message, and any
  echo of it in a server's reply is masked before the reply is quoted;
- a reply must be ``application/json`` that parses (an HTML login page is an error, never data), at most
  ``max_response_bytes`` long (larger bodies are not read), and the whole request, connect to last byte, must
  finish within ``timeout`` seconds, however slowly a server trickles bytes.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import re
import socket
import ssl
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from haetae.errors import UsageError

INSECURE_HTTP_FLAG = "--allow-insecure-http"
MAX_RESPONSE_BYTES = 8 * 1024 * 1024
RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
_HEADER_SAFE = re.compile(r"[\x21-\x7e]+")  # visible ASCII: no space, CR/LF or other header injection


class HttpError(Exception):
    """A request that produced no usable reply; ``retryable`` says whether trying again may help."""

    def __init__(self, url: str, reason: str, *, status: int | None = None, retryable: bool = False) -> None:
        super().__init__(f"{url}: {reason}")
        self.url, self.reason, self.status, self.retryable = url, reason, status, retryable


class Secret:
    """A credential that does not print: repr and str say only that one is set, and it is never pickled."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __reduce__(self):
        raise TypeError("a Secret is not pickled: it would leave this process")


@dataclass(frozen=True)
class Origin:
    scheme: str
    host: str
    port: int

    @classmethod
    def of(cls, url: str) -> Origin:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return cls(parts.scheme.lower(), (parts.hostname or "").lower(), port)

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"


def is_loopback_host(host: str) -> bool:
    """127.0.0.0/8, ::1 or ``localhost``, by the name as written (no DNS lookup, whose answer could change)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class JsonClient:
    """POSTs JSON to one origin and returns the parsed JSON reply, with the guarantees in the module docstring.

    ``setting`` names where the URL came from (``--base-url``) in the one-line :class:`UsageError` raised for a
    URL or credential that cannot be used safely.
    """

    def __init__(self, base_url: str, *, bearer_token: str | None = None, allow_insecure_http: bool = False,
                 timeout: float = 60.0, max_response_bytes: int = MAX_RESPONSE_BYTES,
                 setting: str = "URL") -> None:
        bearer_token = bearer_token or None
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https"):
            raise UsageError(f"{setting} must start with http:// or https://, got {base_url!r}")
        if "@" in parts.netloc:
            raise UsageError(f"{setting} must not hold user:password@ (it would be logged with the URL); "
                             "pass the credential separately")
        try:
            self.origin = Origin.of(base_url)
        except ValueError as exc:  # e.g. a port that is not a number
            raise UsageError(f"{setting} {base_url!r}: {exc}") from None
        if not self.origin.host:
            raise UsageError(f"{setting} has no host: {base_url!r}")
        if bearer_token and not _HEADER_SAFE.fullmatch(bearer_token):
            raise UsageError(f"the API key for {self.origin} holds spaces, line breaks or non-ASCII characters "
                             "(a copy-paste error?); it was not sent")
        if (bearer_token and self.origin.scheme == "http" and not allow_insecure_http
                and not is_loopback_host(self.origin.host)):
            raise UsageError(f"{setting} {self.origin}: refusing to send the API key over plain http:// to a "
                             f"host that is not loopback (anyone on the path could read it); use https://, "
                             f"or opt in with {INSECURE_HTTP_FLAG}")
        self._token = Secret(bearer_token) if bearer_token else None
        self.timeout = timeout
        self.max_response_bytes = max_response_bytes
        self._opener = _opener(self.origin.scheme)

    def __repr__(self) -> str:
        return f"JsonClient({self.origin}, credential={'set' if self._token else 'none'}, timeout={self.timeout:g})"

    def mask(self, text: str, limit: int | None = None) -> str:
        """``text`` (a server's words) with any echo of the credential replaced by ``***``, then cut to
        ``limit`` characters (masking first, so that a cut cannot leave part of the credential)."""
        masked = text.replace(self._token.reveal(), "***") if self._token else text
        return masked[:limit]

    def post_json(self, url: str, payload: Any) -> Any:
        """The parsed JSON reply to ``payload`` POSTed to ``url``; an :class:`HttpError` otherwise."""
        if Origin.of(url) != self.origin:
            raise HttpError(url, f"not sent: the client is bound to {self.origin}, and its credential goes "
                                 "nowhere else")
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token.reveal()}"
        request = _DeadlineRequest(url, data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
                                   headers=headers, method="POST")
        deadline = request.deadline = _Deadline(self.timeout)
        with deadline:
            try:
                with self._opener.open(request, timeout=self.timeout) as response:
                    content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
                    body = self._read_capped(url, response)
            except urllib.error.HTTPError as exc:
                with exc:
                    raise self._status_error(url, exc, deadline) from None
            except (OSError, http.client.HTTPException) as exc:
                raise self._transport_error(url, exc, deadline) from None
        if deadline.expired:  # the cut may have ended a body without a length early: never use it
            raise HttpError(url, f"timed out after {self.timeout:g} s", retryable=True)
        return self._parse(url, content_type, body)

    # -------------------------------------------------------------------------------- internals

    def _read_capped(self, url: str, response: http.client.HTTPResponse) -> bytes:
        limit = self.max_response_bytes
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            raise HttpError(url, f"response of {int(declared)} bytes is over the {limit}-byte limit; not read")
        body = response.read(limit + 1)
        if len(body) > limit:
            raise HttpError(url, f"response is over the {limit}-byte limit; not read further")
        return body

    def _status_error(self, url: str, exc: urllib.error.HTTPError, deadline: _Deadline) -> HttpError:
        if 300 <= exc.code < 400:
            target = _location_origin(url, exc.headers.get("Location"))
            return HttpError(url, f"HTTP {exc.code}: the server redirects to {target}; redirects are not "
                                  "followed (the credential stays with the configured origin): set the final "
                                  "address as the URL", status=exc.code)
        try:
            detail = self.mask(exc.read(2048).decode("utf-8", "replace"), 200)
        except (OSError, http.client.HTTPException):
            detail = "(body not read)"
        if deadline.expired:
            return HttpError(url, f"timed out after {self.timeout:g} s", retryable=True)
        return HttpError(url, f"HTTP {exc.code}: {detail}", status=exc.code, retryable=exc.code in RETRY_STATUS)

    def _transport_error(self, url: str, exc: Exception, deadline: _Deadline) -> HttpError:
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        if deadline.expired or isinstance(reason, TimeoutError):
            return HttpError(url, f"timed out after {self.timeout:g} s", retryable=True)
        if isinstance(reason, ssl.SSLCertVerificationError):
            return HttpError(url, f"TLS certificate not trusted: {reason.verify_message}")
        return HttpError(url, f"connection failed: {self.mask(str(reason) or type(reason).__name__)}",
                         retryable=True)

    def _parse(self, url: str, content_type: str, body: bytes) -> Any:
        if content_type != "application/json" and not content_type.endswith("+json"):
            raise HttpError(url, f"malformed response, not JSON (Content-Type {content_type or 'missing'}): "
                                 f"{self.mask(body[:4096].decode('utf-8', 'replace'), 80)!r}")
        try:
            return json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise HttpError(url, f"malformed response, not JSON ({exc}): "
                                 f"{self.mask(body[:4096].decode('utf-8', 'replace'), 120)!r}") from None


def _location_origin(url: str, location: str | None) -> str:
    """Where a redirect points, as an origin only (its path or query could carry anything)."""
    if not location:
        return "no Location"
    try:
        return str(Origin.of(urljoin(url, location)))
    except ValueError:
        return "an unparseable Location"


class _Deadline:
    """Shuts the request's socket down when the request runs past its time.

    A socket timeout bounds each read, not the request: a server sending one byte per interval would hold a
    request for ever. The timer covers connect, TLS handshake, headers and body.
    """

    def __init__(self, seconds: float) -> None:
        self.expired = False
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> _Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()

    def watch(self, sock: socket.socket) -> socket.socket:
        with self._lock:
            self._sock, expired = sock, self.expired
        if expired:
            _cut(sock)
        return sock

    def _expire(self) -> None:
        with self._lock:
            self.expired, sock = True, self._sock
        if sock is not None:
            _cut(sock)


def _cut(sock: socket.socket) -> None:
    try:  # the plain socket's shutdown (also for an SSLSocket): a blocked read in another thread returns
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:  # already closed
        pass


class _WatchedConnection:
    """Hands every socket it opens (the TCP one, then the TLS one) to the request's deadline."""

    def __init__(self, *args: Any, deadline: _Deadline, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline = deadline
        create = self._create_connection
        self._create_connection = lambda *a, **k: deadline.watch(create(*a, **k))

    def connect(self) -> None:
        super().connect()
        self._deadline.watch(self.sock)


class _WatchedHTTPConnection(_WatchedConnection, http.client.HTTPConnection):
    pass


class _WatchedHTTPSConnection(_WatchedConnection, http.client.HTTPSConnection):
    pass


class _DeadlineRequest(urllib.request.Request):
    deadline: _Deadline


class _HTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req: _DeadlineRequest) -> http.client.HTTPResponse:
        return self.do_open(_WatchedHTTPConnection, req, deadline=req.deadline)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req: _DeadlineRequest) -> http.client.HTTPResponse:
        return self.do_open(_WatchedHTTPSConnection, req, context=self._context, deadline=req.deadline)


def _opener(scheme: str) -> urllib.request.OpenerDirector:
    """The handlers of one scheme and no redirect handler (a 3xx stays an HTTPError); for https the
    environment's https proxy (a CONNECT tunnel), for plain http no proxy (it would read the header)."""
    opener = urllib.request.OpenerDirector()
    if scheme == "https":
        https_proxy = {k: v for k, v in urllib.request.getproxies().items() if k == "https"}
        handlers: tuple[urllib.request.BaseHandler, ...] = (
            urllib.request.ProxyHandler(https_proxy), _HTTPSHandler(context=ssl.create_default_context()))
    else:
        handlers = (_HTTPHandler(),)
    for handler in (*handlers, urllib.request.HTTPDefaultErrorHandler(), urllib.request.HTTPErrorProcessor()):
        opener.add_handler(handler)
    return opener
