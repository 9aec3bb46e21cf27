"""A small OpenAI/Groq-compatible chat-completions server on 127.0.0.1 for tests.

It serves ``/v1/chat/completions`` (OpenAI clients) and ``/openai/v1/chat/completions`` (the
groq SDK), plain JSON and SSE streams, with a script of behaviours consumed one per request:
``Reply(text)``, ``Status(code, headers)``, ``Delay(seconds)`` and ``Malformed()``; when the
script is empty the ``responder`` callable answers from the request.  Every request is recorded.

``limit(rpm, tpm, window_s)`` emulates a provider's rate limits (Groq-style: a sliding
window, prompt tokens counted as characters / 4, a 429 with ``retry-after`` when a request
would go over); ``rate_limited`` counts those 429s.  Without it, usage is the fixed 120
prompt tokens of before.
It also serves ``/v1/embeddings`` (the OpenAI embeddings API) when a test sets ``embed`` (a
callable from a list of texts to a list of vectors); the same script applies to it.
``judge_responder(prefer, answer)`` is a responder with scripted judge modes (see its docstring);
``extraction_responder()`` answers argument-extraction prompts (``ingest.prompts``) with
scripted claims whose quotes are exact, repairable and invented (see its docstring).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

__all__ = ["Reply", "Status", "Delay", "Malformed", "FakeLLM", "fake_llm", "judge_responder",
           "extraction_responder"]


@dataclass
class Reply:
    text: str


@dataclass
class Status:
    code: int
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] = field(default_factory=lambda: {"error": {"message": "scripted"}})


@dataclass
class Delay:
    seconds: float
    then: Reply | None = None


@dataclass
class Malformed:
    body: bytes = b'{"id": "x", "choices": [ {"message": '


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    at: float

    @property
    def user_message(self) -> str:
        return str(self.body.get("messages", [{}])[-1].get("content", ""))

    @property
    def prompt(self) -> str:
        return "\n".join(str(m.get("content", "")) for m in self.body.get("messages", []))


def _prompt_tokens(body: dict[str, Any]) -> int:
    return sum(len(str(m.get("content", ""))) for m in body.get("messages", [])) // 4 + 1


def _completion(text: str, model: str, prompt_tokens: int = 120) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                     "finish_reason": "stop", "logprobs": None}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": len(text.split()),
                  "total_tokens": prompt_tokens + len(text.split())},
    }


def _chunks(text: str, model: str, include_usage: bool, groq: bool) -> list[dict[str, Any]]:
    base = {"id": "chatcmpl-fake", "object": "chat.completion.chunk",
            "created": int(time.time()), "model": model}
    words = text.split(" ")
    out = [{**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                 "finish_reason": None}]}]
    for i, word in enumerate(words):
        piece = word if i == 0 else " " + word
        out.append({**base, "choices": [{"index": 0, "delta": {"content": piece},
                                         "finish_reason": None}]})
    usage = {"prompt_tokens": 120, "completion_tokens": len(words),
             "total_tokens": 120 + len(words)}
    last = {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
    if groq:  # Groq reports streamed usage in x_groq on the last chunk
        last["x_groq"] = {"id": "req_fake", "usage": usage}
    out.append(last)
    if include_usage:
        out.append({**base, "choices": [], "usage": usage})
    return out


def _embeddings(embed: Callable[[list[str]], list[list[float]]],
                body: dict[str, Any]) -> dict[str, Any]:
    texts = body.get("input", [])
    texts = [texts] if isinstance(texts, str) else list(texts)
    vectors = embed(texts)
    return {"object": "list", "model": body.get("model", "fake"),
            "data": [{"object": "embedding", "index": i, "embedding": [float(x) for x in v]}
                     for i, v in enumerate(vectors)],
            "usage": {"prompt_tokens": 0, "total_tokens": 0}}


class FakeLLM:
    def __init__(self, port: int = 0) -> None:
        self.requests: list[Recorded] = []
        self.queue: list[Any] = []
        self.responder: Callable[[dict[str, Any]], str] = lambda body: "A cited answer [1]."
        self.embed: Callable[[list[str]], list[list[float]]] | None = None
        self._lock = threading.Lock()
        self.limits: tuple[int | None, int | None, float] | None = None
        self.rate_limited = 0
        self._window: list[tuple[float, int]] = []  # (time, tokens) of accepted requests
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output clean
                return

            def do_POST(self) -> None:  # noqa: N802 - http.server naming
                length = int(self.headers.get("content-length", 0))
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw or b"{}")
                except json.JSONDecodeError:
                    body = {}
                fake.requests.append(Recorded(self.path, {k.lower(): v for k, v in self.headers.items()},
                                              body, time.time()))
                embeddings = self.path.endswith("/embeddings") and fake.embed is not None
                if not self.path.endswith("/chat/completions") and not embeddings:
                    return self._json(404, {"error": {"message": f"no route {self.path}"}})
                with fake._lock:
                    step = fake.queue.pop(0) if fake.queue else None
                if isinstance(step, Delay):
                    time.sleep(step.seconds)
                    step = step.then
                if isinstance(step, Status):
                    return self._json(step.code, step.body, step.headers)
                if isinstance(step, Malformed):
                    return self._raw(200, step.body, "application/json")
                if embeddings:
                    return self._json(200, _embeddings(fake.embed, body))
                text = step.text if isinstance(step, Reply) else fake.responder(body)
                model = body.get("model", "fake")
                prompt_tokens = 120
                if fake.limits is not None:
                    prompt_tokens = _prompt_tokens(body)
                    wait = fake._admit(prompt_tokens + len(text.split()))
                    if wait > 0:
                        return self._json(429, {"error": {"message": "rate limit reached",
                                                          "code": "rate_limit_exceeded"}},
                                          {"retry-after": f"{wait:.2f}"})
                if body.get("stream"):
                    include = bool((body.get("stream_options") or {}).get("include_usage"))
                    payload = b"".join(b"data: " + json.dumps(c).encode() + b"\n\n"
                                       for c in _chunks(text, model, include,
                                                                    self.path.startswith("/openai/")))
                    return self._raw(200, payload + b"data: [DONE]\n\n", "text/event-stream")
                return self._json(200, _completion(text, model, prompt_tokens))

            def _json(self, code: int, data: Any, headers: dict[str, str] | None = None) -> None:
                self._raw(code, json.dumps(data).encode(), "application/json", headers)

            def _raw(self, code: int, payload: bytes, ctype: str,
                     headers: dict[str, str] | None = None) -> None:
                try:
                    self.send_response(code)
                    self.send_header("content-type", ctype)
                    self.send_header("content-length", str(len(payload)))
                    for key, value in (headers or {}).items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):  # client gave up (timeout)
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def openai_base_url(self) -> str:
        return self.base_url + "/v1"

    def limit(self, rpm: int | None, tpm: int | None, window_s: float = 60.0) -> None:
        self.limits = (rpm, tpm, window_s)

    def _admit(self, tokens: int) -> float:
        """0 if a request of ``tokens`` fits the limits now (and count it), else the wait."""
        rpm, tpm, window = self.limits or (None, None, 60.0)
        with self._lock:
            now = time.time()
            self._window = [(t, n) for t, n in self._window if t > now - window]
            over_r = rpm is not None and len(self._window) + 1 > rpm
            over_t = tpm is not None and sum(n for _, n in self._window) + tokens > tpm
            if over_r or over_t:
                self.rate_limited += 1
                return max(0.05, self._window[0][0] + window - now) if self._window else 0.05
            self._window.append((now, tokens))
            return 0.0

    def script(self, *steps: Any) -> None:
        self.queue.extend(steps)

    @property
    def embedding_requests(self) -> list[Recorded]:
        return [r for r in self.requests if r.path.endswith("/embeddings")]

    @property
    def completions(self) -> list[Recorded]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def start(self) -> FakeLLM:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _shown(prompt: str, label: str) -> str:
    match = re.search(rf"<(answer|extraction)_{label}>\n(.*?)\n</\1_{label}>", prompt, re.DOTALL)
    return match.group(2) if match else ""


def extraction_responder(body: dict[str, Any]) -> str:
    """An extraction of the speech in the prompt: three claims (paraphrases start with FAKE-B)
    quoting its first sentence exactly, its first three words in capitals (found only after
    normalisation: verified, not verbatim) and an invented sentence (dropped); stance
    ``against`` when the speech contains "against", else ``for``; topic trade."""
    prompt = str(body.get("messages", [{}])[-1].get("content", ""))
    match = re.search(r"<speech>(.*)</speech>", prompt, re.DOTALL)
    speech = match.group(1) if match else ""
    first = re.split(r"(?<=[.!?])\s", speech.strip(), maxsplit=1)[0]
    return json.dumps({"claims": [
        {"claim": "FAKE-B paraphrase of the opening", "quote": first},
        {"claim": "FAKE-B paraphrase of the first words",
         "quote": " ".join(speech.split()[:3]).upper()},
        {"claim": "FAKE-B invented claim", "quote": "This sentence was never said by anyone."}],
        "stance": "against" if "against" in speech.lower() else "for", "topics": ["trade"]})


def judge_responder(prefer: str, answer: Callable[[dict[str, Any]], str] | str = "A cited answer [1]."
                    ) -> Callable[[dict[str, Any]], str]:
    """Judge prompts (they show ``<answer_a>``/``<answer_b>``) get a verdict, other prompts
    ``answer`` (a string, or a function of the request body).  ``prefer``: ``first``
    (always the answer shown first), ``longer``, ``garbage`` (never valid JSON), or any other
    text: the answer that contains it, whichever order it is shown in."""
    def verdict(winner: str) -> str:
        good, bad = {"faithfulness": 5, "citations": 4, "answers_question": 5,
                     "completeness": 4, "concision": 4}, dict.fromkeys(
            ("faithfulness", "citations", "answers_question", "completeness", "concision"), 2)
        return json.dumps({"winner": winner, "scores_a": good if winner == "A" else bad,
                           "scores_b": good if winner == "B" else bad,
                           "reason": f"scripted judge prefers {prefer}"})

    def respond(body: dict[str, Any]) -> str:
        prompt = str(body.get("messages", [{}])[-1].get("content", ""))
        if "<answer_a>" not in prompt and "<extraction_a>" not in prompt:
            return answer(body) if callable(answer) else answer
        first, second = _shown(prompt, "a"), _shown(prompt, "b")
        if prefer == "garbage":
            return "I think the first one is nicer, honestly."
        if prefer == "first":
            return verdict("A")
        if prefer == "longer":
            return verdict("A" if len(first.split()) >= len(second.split()) else "B")
        return verdict("A" if prefer in first else "B" if prefer in second else "tie")

    return respond


@pytest.fixture
def fake_llm():
    server = FakeLLM().start()
    yield server
    server.stop()
