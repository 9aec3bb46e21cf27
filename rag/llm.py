"""The one LLM-client layer: answering, enrichment and judging all go through it.

A spec string picks the provider: ``groq:MODEL`` (langchain-groq; ``GROQ_API_KEY``;
``HEMICYCLE_GROQ_BASE_URL`` overrides the endpoint for every Groq call) or
``openai:MODEL@BASE_URL`` (langchain-openai against any OpenAI-compatible endpoint;
``HEMICYCLE_OPENAI_API_KEY`` or ``OPENROUTER_API_KEY``).  The SDKs retry 429 (honouring
``retry-after``), 5xx and timeouts with exponential backoff; what still fails becomes one
``ProviderError`` line, a rejected key a ``ConfigError`` naming the variable.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ingest.errors import ConfigError, ProviderError
from ingest.settings import Settings

from .answer import Generation, Source, Turn
from .prompts import answer_messages, rewrite_messages

__all__ = ["LLMSpec", "LLMReply", "LLMClient", "LLMGenerator", "parse_spec",
           "make_chat_model", "make_llm_generator"]

M = TypeVar("M", bound=BaseModel)
_HOLD = 48  # characters held back: longer than any refusal opening _REFUSAL looks for
_REFUSAL = re.compile(r"\bNOT_IN_SOURCES\b|^\s*the (provided )?sources do not (answer|address)",
                      re.IGNORECASE)


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


def make_chat_model(spec: LLMSpec, settings: Settings) -> Any:
    """A LangChain chat model for the spec (temperature 0, timeout and retries set).

    ``streaming`` is left unset on purpose: set explicitly to False, LangChain's ``stream()``
    would fall back to one blocking call."""
    if spec.provider == "groq":
        if settings.groq_api_key is None:
            raise ConfigError(f"{spec.name} needs an API key: set GROQ_API_KEY")
        from langchain_groq import ChatGroq

        return ChatGroq(model=spec.model, api_key=settings.groq_api_key,
                        base_url=settings.groq_base_url, temperature=0,
                        timeout=settings.llm_timeout_s, max_retries=settings.llm_max_retries)
    if settings.openai_api_key is None:
        raise ConfigError(f"{spec.name} needs an API key: set {_key_variable(spec)}")
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(model=spec.model, api_key=settings.openai_api_key,
                      base_url=spec.base_url, temperature=0, timeout=settings.llm_timeout_s,
                      max_retries=settings.llm_max_retries, stream_usage=True)


def _provider_error(spec: LLMSpec, exc: Exception) -> Exception:
    """One readable line for what the SDK raised after its retries."""
    status = getattr(exc, "status_code", None)
    if status in (401, 403):
        return ConfigError(f"{spec.name}: the key was rejected (HTTP {status}); check "
                           f"{_key_variable(spec)}")
    name = type(exc).__name__
    if "Timeout" in name:
        detail = "timed out"
    elif status is not None:
        detail = f"HTTP {status}"
    elif isinstance(exc, (json.JSONDecodeError, ValueError)) or "Validation" in name:
        detail = "malformed response"
    elif "Connection" in name:
        detail = "cannot connect"
    else:
        detail = name
    return ProviderError(f"{spec.name}: {detail} after retries "
                         f"({str(exc).splitlines()[0][:160] if str(exc) else name})")


class LLMClient:
    """Chat completions through one LangChain chat model, with typed replies."""

    def __init__(self, spec: LLMSpec, settings: Settings, chat_model: Any = None) -> None:
        self.spec = spec
        self.settings = settings
        self.chat_model = chat_model or make_chat_model(spec, settings)

    def complete(self, messages: Sequence[Any]) -> LLMReply:
        started = time.perf_counter()
        try:
            message = self.chat_model.invoke(list(messages))
        except (ConfigError, ProviderError):
            raise
        except Exception as exc:  # SDK errors, timeouts, malformed bodies
            raise _provider_error(self.spec, exc) from None
        usage = getattr(message, "usage_metadata", None) or {}
        text = message.content if isinstance(message.content, str) else str(message.content)
        if not text.strip():
            raise ProviderError(f"{self.spec.name}: empty answer")
        return LLMReply(text, self.spec.name, time.perf_counter() - started,
                        usage.get("input_tokens"), usage.get("output_tokens"))

    def stream(self, messages: Sequence[Any]) -> Iterator[str | LLMReply]:
        """Text deltas, then an ``LLMReply`` (whole text, token usage when reported) last.

        Nothing is kept on the client, so one client can serve concurrent conversations."""
        started = time.perf_counter()
        usage: dict[str, Any] = {}
        parts: list[str] = []
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
        yield LLMReply("".join(parts), self.spec.name, time.perf_counter() - started,
                       usage.get("input_tokens"), usage.get("output_tokens"))

    def complete_json(self, messages: Sequence[Any], model: type[M]) -> M:
        """A reply validated into ``model`` (the JSON may be wrapped in a code fence)."""
        reply = self.complete(messages)
        body = reply.text.strip()
        fenced = re.search(r"```(?:json)?\s*(.*?)```", body, re.DOTALL)
        if fenced:
            body = fenced.group(1)
        try:
            return model.model_validate_json(body)
        except ValidationError as exc:
            raise ProviderError(f"{self.spec.name}: reply is not a valid "
                                f"{model.__name__} ({exc.errors()[0]['msg']})") from None


class LLMGenerator:
    """Answers from numbered sources with an LLM (see ``prompts.answer_messages``)."""

    def __init__(self, client: LLMClient) -> None:
        self.client = client
        self.name = client.spec.name if client.spec.provider == "openai" else \
            f"groq:{client.spec.model}"

    def _generation(self, text: str, usage: tuple[int | None, int | None]) -> Generation:
        refused = bool(_REFUSAL.search(text))
        return Generation(text="" if refused else text.strip(), refused=refused,
                          prompt_tokens=usage[0], completion_tokens=usage[1],
                          model=self.client.spec.model)

    def generate(self, question: str, sources: Sequence[Source]) -> Generation:
        reply = self.client.complete(answer_messages(question, sources))
        return self._generation(reply.text, (reply.prompt_tokens, reply.completion_tokens))

    def stream(self, question: str, sources: Sequence[Source]) -> Iterator[str | Generation]:
        """Deltas as they come, except that the first ``_HOLD`` characters are held back until
        they cannot be the start of a refusal, and a refusal is never shown as an answer."""
        seen, shown = "", 0
        usage: tuple[int | None, int | None] = (None, None)
        for item in self.client.stream(answer_messages(question, sources)):
            if isinstance(item, LLMReply):
                usage = (item.prompt_tokens, item.completion_tokens)
                continue
            seen += item
            if len(seen) >= _HOLD and not _REFUSAL.search(seen):
                yield seen[shown:]
                shown = len(seen)
        if shown < len(seen) and not _REFUSAL.search(seen):
            yield seen[shown:]
        yield self._generation(seen, usage)

    def rewrite(self, question: str, history: Sequence[Turn]) -> str:
        if not history:
            return question
        reply = self.client.complete(rewrite_messages(question, history))
        rewritten = reply.text.strip().strip('"').splitlines()[0].strip()
        return rewritten or question


def make_llm_generator(spec: str, settings: Settings) -> LLMGenerator:
    parsed = parse_spec(spec, settings)
    return LLMGenerator(LLMClient(parsed, settings))
