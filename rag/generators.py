"""Answer generators behind one interface, chosen by a spec string.

- ``extractive`` (default): offline, no LLM; quotes the most relevant retrieved sentences.
- ``groq:MODEL``: Groq through langchain-groq (key ``GROQ_API_KEY``).
- ``openai:MODEL@BASE_URL``: any OpenAI-compatible endpoint (key ``HEMICYCLE_OPENAI_API_KEY``
  or ``OPENROUTER_API_KEY``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Protocol

from ingest.embedder import Embedder
from ingest.errors import ConfigError
from ingest.settings import Settings

from .answer import Generation, Source, Turn

__all__ = ["Generator", "make_generator", "available_generators"]


class Generator(Protocol):
    name: str

    def generate(self, question: str, sources: Sequence[Source]) -> Generation:
        """Answer from the numbered sources only, citing ``[n]``."""

    def stream(self, question: str, sources: Sequence[Source]) -> Iterator[str | Generation]:
        """Yield text deltas, then the final ``Generation`` as the last item."""

    def rewrite(self, question: str, history: Sequence[Turn]) -> str:
        """Turn a follow-up into a standalone question using the history."""


def make_generator(spec: str | None, settings: Settings, embedder: Embedder) -> Generator:
    spec = (spec or settings.generator or "extractive").strip()
    if spec == "extractive":
        from .extractive import ExtractiveGenerator

        return ExtractiveGenerator(embedder, claims=_claim_quotes(settings))
    provider, sep, rest = spec.partition(":")
    if provider in ("groq", "openai"):
        from .llm import make_llm_generator

        return make_llm_generator(spec, settings)
    raise ConfigError(f"unknown generator {spec!r}; use extractive, groq:MODEL or "
                      "openai:MODEL@BASE_URL")


def _claim_quotes(settings: Settings) -> Callable[[str], Sequence[str]] | None:
    """Verified claim quotes per speech of the collection, when it has been enriched."""
    path = settings.collection_dir() / "arguments.sqlite"
    if not path.exists():
        return None
    from ingest.argstore import ArgumentStore

    store = ArgumentStore(path)
    try:
        quotes = {a.speech_id: [c.quote for c in a.claims] for a in store.iter()}
    finally:
        store.close()
    return lambda speech_id: quotes.get(speech_id, ())


def available_generators(settings: Settings) -> list[str]:
    """The generator specs that are configured (keys present), extractive first."""
    specs = ["extractive"]
    if settings.groq_api_key is not None:
        specs.append(f"groq:{settings.groq_model}")
    for extra in settings.generators:
        if extra not in specs and _configured(extra, settings):
            specs.append(extra)
    return specs


def _configured(spec: str, settings: Settings) -> bool:
    provider = spec.partition(":")[0]
    return (provider == "groq" and settings.groq_api_key is not None) or (
        provider == "openai" and settings.openai_api_key is not None)


