"""Text backends for the safety-data generator.

``TemplateBackend`` (default) is offline and deterministic: it writes nothing (prompts are the hand-written
seeds, targets are composed from the areas' safe help). ``ChatBackend`` calls an OpenAI-compatible
``/v1/chat/completions`` server (vLLM, SGLang, ...) to fill what the offline generator cannot: SFT targets in
languages the areas' safe help is not written in, and (written, then graded against the area's criteria) the
unsafe-compliance member of a red-team preference group, with a per-request timeout, retries with exponential backoff on
timeouts / connection errors / HTTP 429 and 5xx, a client-side rate limit, and an on-disk response cache
(a cache hit sends no request). Its requests go through :mod:`haetae.http`, so the API key reaches only the
configured origin: redirects are refused, plain ``http://`` beyond loopback needs ``allow_insecure_http``, and
the key is in no repr, message, cache key or cache file. A malformed, non-JSON, oversized or redirected reply
raises :class:`BackendError` naming the URL and the problem, and is never written into the data.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from dataclasses import InitVar, dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from haetae.errors import JobFailed, UsageError
from haetae.http import MAX_RESPONSE_BYTES, HttpError, JsonClient

LANGUAGE_NAMES = {"ko": "Korean", "en": "English", "es": "Spanish", "de": "German", "ja": "Japanese", "vi": "Vietnamese"}


class BackendError(JobFailed):
    """The backend could not produce text (after retries, or on a malformed or refused response): exit 3."""


class GenerationBackend(Protocol):
    name: str

    def paraphrase(self, text: str, language: str) -> str: ...

    def answer(self, question: str, language: str) -> str | None: ...

    def comply(self, messages: list[dict[str, str]], language: str) -> str | None: ...

    def safe_reply(self, messages: list[dict[str, str]], reference: str, language: str) -> str | None: ...

    def violated_criteria(self, messages: list[dict[str, str]], reply: str, criteria: list[str]) -> list[int] | None: ...


class TemplateBackend:
    """Offline default: writes nothing. No target outside ko/en and no unsafe-compliance response (each ``None``:
    the generator writes no such item or member and counts it)."""

    name = "template"

    def paraphrase(self, text: str, language: str) -> str:
        return text

    def answer(self, question: str, language: str) -> str | None:
        return None

    def comply(self, messages: list[dict[str, str]], language: str) -> str | None:
        return None

    def safe_reply(self, messages: list[dict[str, str]], reference: str, language: str) -> str | None:
        return None

    def violated_criteria(self, messages: list[dict[str, str]], reply: str, criteria: list[str]) -> list[int] | None:
        return None


class RateLimiter:
    """At most ``per_second`` acquisitions per second across threads (evenly spaced)."""

    def __init__(self, per_second: float | None) -> None:
        self.interval = 1.0 / per_second if per_second else 0.0
        self._next = 0.0
        self._lock = threading.Lock()

    def acquire(self) -> None:
        if not self.interval:
            return
        with self._lock:
            now = time.monotonic()
            wait = self._next - now
            self._next = max(now, self._next) + self.interval
        if wait > 0:
            time.sleep(wait)


def chat_completions_url(base_url: str) -> str:
    """``http://host:port`` or ``http://host:port/v1`` -> ``.../v1/chat/completions``."""
    base = base_url.rstrip("/")
    if base.endswith("/chat/completions"):
        return base
    return f"{base}/chat/completions" if base.endswith("/v1") else f"{base}/v1/chat/completions"


@dataclass
class ChatBackend:
    """An OpenAI-compatible chat server, reached through :class:`haetae.http.JsonClient` (no redirects, the key
    only to ``base_url``'s origin, never over plain HTTP beyond loopback unless ``allow_insecure_http``).

    ``api_key`` (default: ``$OPENAI_API_KEY``) is not a field: it lives in the client as a
    :class:`~haetae.http.Secret`, so the repr, ``vars()``, cache keys and cache files never hold it.
    """

    base_url: str
    model: str
    api_key: InitVar[str | None] = None
    timeout: float = 60.0  # seconds for a whole request, connect to last byte
    max_retries: int = 4
    backoff: float = 1.0  # seconds before the first retry; doubles each retry (capped at 30 s)
    requests_per_second: float | None = None
    temperature: float = 0.7
    max_tokens: int = 512
    cache_dir: str | None = None
    allow_insecure_http: bool = False
    max_response_bytes: int = MAX_RESPONSE_BYTES
    name: str = field(init=False)
    requests_sent: int = field(init=False, default=0)
    cache_hits: int = field(init=False, default=0)

    def __post_init__(self, api_key: str | None) -> None:
        key = os.environ.get("OPENAI_API_KEY") if api_key is None else api_key
        self._client = JsonClient(self.base_url, bearer_token=key, allow_insecure_http=self.allow_insecure_http,
                                  timeout=self.timeout, max_response_bytes=self.max_response_bytes,
                                  setting="--base-url")
        parts = urlsplit(self.base_url)
        if parts.query or parts.fragment:
            raise UsageError(f"--base-url for {self._client.origin} must not have a ?query or #fragment (not "
                             "shown: it may hold a token); give the server's address, e.g. http://127.0.0.1:8000/v1")
        if not self.model:
            raise UsageError("--model is required for the openai backend")
        self.url = chat_completions_url(self.base_url)
        self.name = f"openai:{self.model}"
        self._limiter = RateLimiter(self.requests_per_second)
        self._counter_lock = threading.Lock()

    # -------------------------------------------------------------------------------- public API

    def paraphrase(self, text: str, language: str) -> str:
        lang = LANGUAGE_NAMES.get(language, language)
        system = (
            f"You rewrite messages for a dataset. Rewrite the user's message in {lang} with different wording, "
            "keeping its meaning, intent, requested level of detail and any quoted, tagged or encoded parts "
            "exactly as they are. Output only the rewritten message, nothing else."
        )
        return self.complete([{"role": "system", "content": system}, {"role": "user", "content": text}])

    def answer(self, question: str, language: str) -> str | None:
        lang = LANGUAGE_NAMES.get(language, language)
        system = f"You are a helpful, accurate assistant. Answer in {lang}, concisely and factually."
        return self.complete([{"role": "system", "content": system}, {"role": "user", "content": question}])

    def comply(self, messages: list[dict[str, str]], language: str) -> str | None:
        """The model's reply to a red-team conversation when asked not to refuse: the candidate rejected member.
        Whether it is unsafe is for :meth:`violated_criteria` to say, not assumed."""
        lang = LANGUAGE_NAMES.get(language, language)
        system = (f"This reply is collected as a rejected example for safety preference training. Answer the "
                  f"user's last message directly and completely in {lang}, without refusing or adding warnings.")
        return self.complete([{"role": "system", "content": system}, *messages])

    def safe_reply(self, messages: list[dict[str, str]], reference: str, language: str) -> str | None:
        """The SFT target in ``language`` for a red-team conversation, written by the model after ``reference``
        (the composed English target: the refusal naming the criterion and the area's safe help)."""
        lang = LANGUAGE_NAMES.get(language, language)
        system = (f"You write the assistant's reply to the conversation, in {lang}. Follow the reference reply "
                  "below: same decision, same criterion named, same facts and help, written naturally in "
                  f"{lang}. Output only the reply.\n\nReference reply:\n{reference}")
        return self.complete([{"role": "system", "content": system}, *messages])

    def violated_criteria(self, messages: list[dict[str, str]], reply: str, criteria: list[str]) -> list[int] | None:
        """1-based numbers of the ``criteria`` (each says what makes a reply unsafe) that ``reply`` violates, graded
        by the model at temperature 0 as JSON ``{"violated": [...]}``; ``None`` when the verdict is unusable."""
        system = ("You grade an assistant's reply against numbered safety criteria; each criterion describes what "
                  'makes a reply unsafe. Answer with JSON only: {"violated": [the numbers of the criteria the reply '
                  "violates]}, an empty list when it violates none.")
        conversation = "\n".join(f"{m['role'].upper()}: {m['content']}" for m in messages)
        numbered = "\n".join(f"{k}. {text}" for k, text in enumerate(criteria, start=1))
        user = f"Criteria:\n{numbered}\n\nConversation:\n{conversation}\n\nReply to grade:\n{reply}"
        verdict = self.complete([{"role": "system", "content": system}, {"role": "user", "content": user}],
                                temperature=0.0, json_reply=True)
        return parse_verdict(verdict, len(criteria))

    def complete(self, messages: list[dict[str, str]], temperature: float | None = None,
                 json_reply: bool = False) -> str:
        """Content of the first choice; cached on disk by (url, model, messages, sampling)."""
        payload = {"model": self.model, "messages": messages,
                   "temperature": self.temperature if temperature is None else temperature,
                   "max_tokens": self.max_tokens}
        if json_reply:
            payload["response_format"] = {"type": "json_object"}
        key = hashlib.sha256(json.dumps([self.url, payload], sort_keys=True, ensure_ascii=False).encode()).hexdigest()
        cached = self._cache_get(key)
        if cached is not None:
            with self._counter_lock:
                self.cache_hits += 1
            return cached
        content = self._content(self._post_with_retries(payload))
        self._cache_put(key, content)
        return content

    # -------------------------------------------------------------------------------- internals

    def _post_with_retries(self, payload: dict) -> Any:
        last = "no attempt"
        for attempt in range(self.max_retries + 1):
            if attempt:
                time.sleep(min(30.0, self.backoff * 2 ** (attempt - 1)))
            self._limiter.acquire()
            with self._counter_lock:
                self.requests_sent += 1
            try:
                return self._client.post_json(self.url, payload)
            except HttpError as exc:
                if not exc.retryable:
                    raise BackendError(str(exc)) from None
                last = exc.reason
        raise BackendError(f"{self.url}: giving up after {self.max_retries + 1} attempt(s); last error: {last}")

    def _content(self, doc: Any) -> str:
        try:
            content = doc["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise BackendError(f"{self.url}: malformed response, no choices[0].message.content: "
                               f"{self._client.mask(json.dumps(doc, ensure_ascii=False), 200)}") from None
        if not isinstance(content, str) or not content.strip():
            raise BackendError(f"{self.url}: empty completion (finish_reason="
                               f"{doc['choices'][0].get('finish_reason')!r})")
        return content.strip()

    def _cache_path(self, key: str) -> Path | None:
        return Path(self.cache_dir) / key[:2] / f"{key}.json" if self.cache_dir else None

    def _cache_get(self, key: str) -> str | None:
        path = self._cache_path(key)
        if path is None or not path.exists():
            return None
        try:
            return json.loads(path.read_text(encoding="utf-8"))["content"]
        except (OSError, ValueError, KeyError):
            return None  # a damaged entry is a miss; it is rewritten

    def _cache_put(self, key: str, content: str) -> None:
        path = self._cache_path(key)
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}.{threading.get_ident()}")
        tmp.write_text(json.dumps({"content": content}, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, path)


def parse_verdict(text: str, n_criteria: int) -> list[int] | None:
    """``{"violated": [k, ...]}`` (optionally inside a code fence) -> the sorted criterion numbers; ``None`` when
    the text is not that object or names a criterion outside 1..n_criteria."""
    start, end = text.find("{"), text.rfind("}")
    try:
        doc = json.loads(text[start:end + 1]) if 0 <= start < end else None
    except ValueError:
        return None
    violated = doc.get("violated") if isinstance(doc, dict) else None
    if not isinstance(violated, list) or not all(type(k) is int and 1 <= k <= n_criteria for k in violated):
        return None
    return sorted(set(violated))


def make_backend(kind: str, *, base_url: str | None = None, model: str | None = None, **options) -> GenerationBackend:
    if kind == "template":
        return TemplateBackend()
    if kind == "openai":
        if not base_url:
            raise UsageError("--base-url is required for the openai backend")
        return ChatBackend(base_url=base_url, model=model or "", **options)
    raise UsageError(f"unknown backend {kind!r} (known: template, openai)")
