"""The one LLM-client layer: answering, enrichment and judging all go through it.

A spec string picks the provider: ``groq:MODEL`` (langchain-groq; ``GROQ_API_KEY``;
``HEMICYCLE_GROQ_BASE_URL`` overrides the endpoint for every Groq call) or
``openai:MODEL@BASE_URL`` (langchain-openai against any OpenAI-compatible endpoint;
``HEMICYCLE_OPENAI_API_KEY`` or ``OPENROUTER_API_KEY``).

Every call goes through the process-wide ``RateLimiter`` of its model (RPM + TPM, see
``ingest.ratelimit``).  ``complete`` and ``complete_json`` retry themselves: a 429 waits what
the provider asks (``retry-after`` or the reset headers) and tries again, unless the wait is
longer than ``llm_max_wait_s`` (a daily quota): then ``QuotaExhausted`` says when to resume;
5xx, timeouts and connection errors back off exponentially.  ``complete_json`` asks for
structured output (Groq ``json_schema`` where the model supports it, JSON mode elsewhere),
validates the reply into a pydantic model, makes one repair attempt on invalid JSON
(or Groq's 400 ``json_validate_failed``) and caches results on disk by (provider, model,
prompt version, input).  What still fails becomes one ``ProviderError`` line with a
``reason``; a rejected key a ``ConfigError`` naming the variable.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from .errors import ConfigError, ProviderError, QuotaExhausted
from .llmcache import LLMCache, cache_key
from .ratelimit import RateLimiter, default_limits, limiter_for, retry_after_seconds
from .settings import Settings

__all__ = ["LLMSpec", "LLMReply", "LLMStats", "LLMClient", "parse_spec", "make_chat_model",
           "estimate_tokens", "JSON_SCHEMA_MODELS"]

M = TypeVar("M", bound=BaseModel)

# Groq models with structured outputs (json_schema); the others get JSON mode plus the
# schema in the prompt (console.groq.com/docs/structured-outputs, supported models).
JSON_SCHEMA_MODELS = ("openai/gpt-oss", "moonshotai/kimi-k2", "meta-llama/llama-4")


@dataclass(frozen=True)
class LLMSpec:
    provider: str  # "groq" | "openai"
    model: str
    base_url: str | None = None

    @property
    def name(self) -> str:
        return f"{self.provider}:{self.model}" + (f"@{self.base_url}" if self.base_url else "")


@dataclass(frozen=True)
class LLMReply:
    text: str
    model: str
    latency_s: float
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


@dataclass
class LLMStats:
    """What one client did: requests sent, cache hits, tokens, 429s, retries, repairs."""

    requests: int = 0
    cached: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    rate_limited: int = 0
    retries: int = 0
    repairs: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **counts: int) -> None:
        with self._lock:
            for key, value in counts.items():
                setattr(self, key, getattr(self, key) + value)

    def to_dict(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in ("requests", "cached", "prompt_tokens",
                                              "completion_tokens", "rate_limited", "retries",
                                              "repairs")}


def parse_spec(spec: str, settings: Settings) -> LLMSpec:
    provider, sep, rest = spec.strip().partition(":")
    if provider == "groq" and sep:
        return LLMSpec("groq", rest.strip() or settings.groq_model)
    if provider == "openai" and sep:
        model, at, base_url = rest.rpartition("@")
        if not at or not model.strip() or not base_url.startswith(("http://", "https://")):
            raise ConfigError(f"generator {spec!r}: expected openai:MODEL@BASE_URL, e.g. "
                              "openai:llama3.1@http://127.0.0.1:11434/v1")
        return LLMSpec("openai", model.strip(), base_url.strip().rstrip("/"))
    raise ConfigError(f"unknown LLM spec {spec!r}; use groq:MODEL or openai:MODEL@BASE_URL")


def _key_variable(spec: LLMSpec) -> str:
    return "GROQ_API_KEY" if spec.provider == "groq" else \
        "HEMICYCLE_OPENAI_API_KEY or OPENROUTER_API_KEY"


def make_chat_model(spec: LLMSpec, settings: Settings, max_retries: int | None = None) -> Any:
    """A LangChain chat model for the spec (temperature 0, timeout and retries set).

    ``streaming`` is left unset on purpose: set explicitly to False, LangChain's ``stream()``
    would fall back to one blocking call."""
    retries = settings.llm_max_retries if max_retries is None else max_retries
    if spec.provider == "groq":
        if settings.groq_api_key is None:
            raise ConfigError(f"{spec.name} needs an API key: set GROQ_API_KEY")
        from langchain_groq import ChatGroq

        return ChatGroq(model=spec.model, api_key=settings.groq_api_key,
                        base_url=settings.groq_base_url, temperature=0,
                        timeout=settings.llm_timeout_s, max_retries=retries)
    if settings.openai_api_key is None:
        raise ConfigError(f"{spec.name} needs an API key: set {_key_variable(spec)}")
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(model=spec.model, api_key=settings.openai_api_key,
                      base_url=spec.base_url, temperature=0, timeout=settings.llm_timeout_s,
                      max_retries=retries, stream_usage=True)


def _status(exc: Exception) -> int | None:
    return getattr(exc, "status_code", None)


def _headers(exc: Exception) -> dict[str, str]:
    response = getattr(exc, "response", None)
    return dict(getattr(response, "headers", None) or {})


def _provider_error(spec: LLMSpec, exc: Exception) -> Exception:
    """One readable line for what the SDK raised after the retries."""
    status = _status(exc)
    if status in (401, 403):
        return ConfigError(f"{spec.name}: the key was rejected (HTTP {status}); check "
                           f"{_key_variable(spec)}")
    name = type(exc).__name__
    if "Timeout" in name:
        detail, reason = "timed out", "timeout"
    elif status is not None:
        detail, reason = f"HTTP {status}", f"http_{status}"
    elif isinstance(exc, (json.JSONDecodeError, ValueError)) or "Validation" in name:
        detail, reason = "malformed response", "malformed_response"
    elif "Connection" in name:
        detail, reason = "cannot connect", "connection"
    else:
        detail, reason = name, "provider_error"
    return ProviderError(f"{spec.name}: {detail} after retries "
                         f"({str(exc).splitlines()[0][:160] if str(exc) else name})", reason)


def _retryable(exc: Exception) -> bool:
    status = _status(exc)
    name = type(exc).__name__
    return status == 429 or (status is not None and status >= 500) or "Timeout" in name or \
        "Connection" in name


def _is_json_failure(exc: Exception) -> bool:
    return _status(exc) == 400 and "json_validate_failed" in str(exc)


def _chars(messages: Sequence[Any]) -> int:
    return sum(len(str(getattr(m, "content", m[1] if isinstance(m, tuple) else m)))
               for m in messages)


def estimate_tokens(messages: Sequence[Any], completion: int = 0,
                    chars_per_token: float = 3.0) -> int:
    """A token estimate for the limiter (3 characters a token unless measured, plus overhead)."""
    return int(_chars(messages) / chars_per_token) + 8 * len(messages) + completion


def _message_payload(messages: Sequence[Any]) -> list[list[str]]:
    out = []
    for m in messages:
        if isinstance(m, tuple):
            out.append([str(m[0]), str(m[1])])
        else:
            out.append([getattr(m, "type", "message"), str(m.content)])
    return out


class LLMClient:
    """Chat completions through one LangChain chat model: limited, retried, typed, cached."""

    def __init__(self, spec: LLMSpec, settings: Settings, chat_model: Any = None,
                 limiter: RateLimiter | None = None, cache: LLMCache | None = None) -> None:
        self.spec = spec
        self.settings = settings
        self.chat_model = chat_model or make_chat_model(spec, settings)
        self._raw_model = chat_model or make_chat_model(spec, settings, max_retries=0)
        limits = default_limits(spec.provider, spec.model, settings.llm_rpm, settings.llm_tpm)
        endpoint = spec.base_url or settings.groq_base_url or "default"
        self.limiter = limiter or limiter_for(spec.provider, spec.model, endpoint, limits)
        self._cache = cache
        self.stats = LLMStats()
        # learned from replies, so the limiter reserves what a request really costs: the
        # fewest characters per prompt token and the longest reply seen (conservative)
        self._chars_per_token = 3.0
        self._reply_tokens: int | None = None
        self._calibrated = False

    @property
    def cache(self) -> LLMCache:
        if self._cache is None:
            self._cache = LLMCache(self.settings.cache_dir / "llm.sqlite")
        return self._cache

    # -- one request, retried -------------------------------------------------------------------
    def _invoke(self, model: Any, messages: Sequence[Any], completion_budget: int) -> Any:
        """One logical call: limiter, then retries on 429 / 5xx / timeouts (raw SDK errors
        other than those propagate to the caller)."""
        attempts = self.settings.llm_max_retries + 1
        reply_guess = completion_budget if self._reply_tokens is None else \
            min(completion_budget, self._reply_tokens)
        for attempt in range(attempts):
            handle = self.limiter.acquire(estimate_tokens(messages, reply_guess,
                                                          self._chars_per_token))
            self.stats.add(requests=1)
            try:
                message = model.invoke(list(messages))
            except Exception as exc:
                self.limiter.settle(handle, estimate_tokens(messages))
                if not _retryable(exc) or attempt == attempts - 1:
                    if _status(exc) == 429:
                        self._check_quota(exc)
                    raise
                self.stats.add(retries=1)
                if _status(exc) == 429:
                    self.stats.add(rate_limited=1)
                    wait = self._check_quota(exc)
                    self.limiter.pause_until(wait if wait is not None else 2.0 ** attempt)
                else:
                    time.sleep(min(30.0, 0.5 * 2 ** attempt))
                continue
            usage = getattr(message, "usage_metadata", None) or {}
            used = (usage.get("input_tokens") or 0) + (usage.get("output_tokens") or 0)
            self.limiter.settle(handle, used or None)
            self._learn(messages, usage)
            self.stats.add(prompt_tokens=usage.get("input_tokens") or 0,
                           completion_tokens=usage.get("output_tokens") or 0)
            return message
        raise AssertionError("unreachable")

    def _learn(self, messages: Sequence[Any], usage: dict[str, Any]) -> None:
        prompt, reply = usage.get("input_tokens"), usage.get("output_tokens")
        if prompt and prompt > 8 * len(messages):
            ratio = _chars(messages) / (prompt - 8 * len(messages))
            self._chars_per_token = ratio if not self._calibrated else \
                min(self._chars_per_token, ratio)
            self._calibrated = True
        if reply:
            self._reply_tokens = max(self._reply_tokens or 0, int(reply))

    def _check_quota(self, exc: Exception) -> float | None:
        """The wait a 429 asks for; a wait beyond ``llm_max_wait_s`` (or a per-day limit)
        raises ``QuotaExhausted`` with the time to resume."""
        wait = retry_after_seconds(_headers(exc))
        daily = "per day" in str(exc).lower()
        if (wait is not None and wait > self.settings.llm_max_wait_s) or daily:
            seconds = wait or 3600.0
            resume = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=seconds)
            at = resume.strftime("%Y-%m-%d %H:%M UTC")
            raise QuotaExhausted(f"{self.spec.name}: quota exhausted (HTTP 429, reset in "
                                 f"{_human(seconds)}); resume after {at} by running the same "
                                 "command again (finished work is kept)", at) from None
        return wait

    def complete(self, messages: Sequence[Any]) -> LLMReply:
        started = time.perf_counter()
        try:
            message = self._invoke(self._raw_model, messages, 256)
        except (ConfigError, ProviderError):
            raise
        except Exception as exc:  # SDK errors, timeouts, malformed bodies
            raise _provider_error(self.spec, exc) from None
        usage = getattr(message, "usage_metadata", None) or {}
        text = message.content if isinstance(message.content, str) else str(message.content)
        if not text.strip():
            raise ProviderError(f"{self.spec.name}: empty answer", "empty_answer")
        return LLMReply(text, self.spec.name, time.perf_counter() - started,
                        usage.get("input_tokens"), usage.get("output_tokens"))

    def stream(self, messages: Sequence[Any]) -> Iterator[str | LLMReply]:
        """Text deltas, then an ``LLMReply`` (whole text, token usage when reported) last.

        Nothing is kept on the client, so one client can serve concurrent conversations.
        The SDK retries a stream that fails before its first byte."""
        started = time.perf_counter()
        usage: dict[str, Any] = {}
        parts: list[str] = []
        handle = self.limiter.acquire(estimate_tokens(messages, 256))
        self.stats.add(requests=1)
        try:
            for chunk in self.chat_model.stream(list(messages)):
                usage = getattr(chunk, "usage_metadata", None) or usage
                if chunk.content:
                    text = chunk.content if isinstance(chunk.content, str) else str(chunk.content)
                    parts.append(text)
                    yield text
        except (ConfigError, ProviderError):
            raise
        except Exception as exc:
            raise _provider_error(self.spec, exc) from None
        finally:
            used = (usage.get("input_tokens") or 0) + (usage.get("output_tokens") or 0)
            self.limiter.settle(handle, used or None)
        yield LLMReply("".join(parts), self.spec.name, time.perf_counter() - started,
                       usage.get("input_tokens"), usage.get("output_tokens"))

    # -- structured output ----------------------------------------------------------------------
    def response_format(self, model: type[BaseModel]) -> dict[str, Any]:
        """Groq structured outputs (json_schema) where the model has them, else JSON mode."""
        if self.spec.provider == "groq" and self.spec.model.startswith(JSON_SCHEMA_MODELS):
            return {"type": "json_schema",
                    "json_schema": {"name": model.__name__, "schema": model.model_json_schema()}}
        return {"type": "json_object"}

    def complete_json(self, messages: Sequence[Any], model: type[M], *,
                      prompt_version: str | None = None, max_tokens: int | None = None) -> M:
        """A reply validated into ``model`` (the JSON may be wrapped in a code fence).

        With ``prompt_version`` the result is cached on disk under (provider, model, prompt
        version, messages).  Invalid JSON gets one repair request, then ``ProviderError``
        with reason ``invalid_json``."""
        key = None
        if prompt_version is not None:
            key = cache_key(self.spec.name, prompt_version, _message_payload(messages))
            hit = self.cache.get(key)
            if hit is not None:
                self.stats.add(cached=1)
                return model.model_validate(hit)
        budget = max_tokens or self.settings.llm_max_output_tokens
        bound = self._raw_model.bind(response_format=self.response_format(model),
                                     max_tokens=budget)
        messages = list(messages)
        error = ""
        for attempt in range(2):  # the request, then one repair
            try:
                reply = self._invoke(bound, messages, budget)
                text = reply.content if isinstance(reply.content, str) else str(reply.content)
            except (ConfigError, ProviderError):
                raise
            except Exception as exc:
                if not _is_json_failure(exc):
                    raise _provider_error(self.spec, exc) from None
                text, error = _failed_generation(exc), "the JSON did not match the schema"
            else:
                try:
                    value = model.model_validate_json(_unfence(text))
                except ValidationError as exc:
                    error = exc.errors()[0]["msg"]
                else:
                    if key is not None:
                        self.cache.put(key, self.spec.name, prompt_version or "",
                                       value.model_dump(mode="json"))
                    return value
            if attempt == 0:
                self.stats.add(repairs=1)
                messages = [*messages, ("assistant", text[:4000] or "(no reply)"),
                            ("user", f"That reply is not valid JSON for the required schema "
                                     f"({error}). Reply again with only the corrected JSON "
                                     "object, nothing else.")]
        raise ProviderError(f"{self.spec.name}: reply is not a valid {model.__name__} "
                            f"({error})", "invalid_json")


def _unfence(text: str) -> str:
    body = text.strip()
    fenced = re.search(r"```(?:json)?\s*(.*?)```", body, re.DOTALL)
    return fenced.group(1) if fenced else body


def _failed_generation(exc: Exception) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict):
            return str(inner.get("failed_generation") or "")
    return ""


def _human(seconds: float) -> str:
    minutes = int(seconds // 60)
    return f"{minutes // 60}h{minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m"
