"""LLM answers: ``LLMGenerator`` over the client layer in ``ingest.llm``.

The provider-independent part (specs, chat models, ``LLMClient`` with its limiter, retries,
structured output and cache) lives in ``ingest.llm`` so that enrichment, an ingest step,
can use it too; it is re-exported here for callers of the answering layer.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from ingest.llm import LLMClient, LLMReply, LLMSpec, make_chat_model, parse_spec
from ingest.settings import Settings

from .answer import Generation, Source, Turn
from .prompts import answer_messages, rewrite_messages

__all__ = ["LLMSpec", "LLMReply", "LLMClient", "LLMGenerator", "parse_spec",
           "make_chat_model", "make_llm_generator"]

_HOLD = 48  # characters held back: longer than any refusal opening _REFUSAL looks for
_REFUSAL = re.compile(r"\bNOT_IN_SOURCES\b|^\s*the (provided )?sources do not (answer|address)",
                      re.IGNORECASE)


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
