"""The answer object and the citation check every generator's output goes through."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from .retriever import Hit

__all__ = ["Source", "Turn", "Generation", "Citation", "Answer", "check_citations",
           "CITATION_RE"]

CITATION_RE = re.compile(r"\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]")


@dataclass(frozen=True)
class Source:
    """A numbered passage handed to a generator."""

    n: int
    hit: Hit

    @property
    def text(self) -> str:
        return self.hit.record.text

    def header(self) -> str:
        r = self.hit.record
        who = r.speaker + (f" ({r.party})" if r.party else "") + (
            f", {r.role}" if r.role and r.role not in ("MEP", r.speaker) else "")
        return f"{who} — {r.date} — {r.debate_title}"


@dataclass(frozen=True)
class Turn:
    """One exchange of a conversation, as kept in the chat history."""

    question: str
    answer: str
    standalone: str = ""


@dataclass
class Generation:
    """What a generator returns before the citation check."""

    text: str
    refused: bool = False
    quotes: dict[int, str] = field(default_factory=dict)  # n -> exact quoted sentence
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    model: str = ""


@dataclass(frozen=True)
class Citation:
    n: int
    speech_id: str
    chunk_id: str
    speaker: str
    party: str
    role: str
    date: str
    debate_id: str
    debate_title: str
    quote: str  # exact text from the speech
    char_start: int  # span of ``quote`` in the debate markdown file
    char_end: int
    passage: str  # the whole retrieved passage the quote comes from
    score: float
    translated: bool = False  # the quote is a translation, not the verbatim words
    original_language: str = ""  # the language the speech was given in, when translated

    @classmethod
    def from_source(cls, source: Source, quote: str | None = None) -> Citation:
        r = source.hit.record
        quote = (quote or "").strip()
        offset = r.text.find(quote) if quote else -1
        if offset < 0:  # an unverifiable quote is replaced by the passage itself
            quote, offset = r.text, 0
        return cls(source.n, r.speech_id, r.chunk_id, r.speaker, r.party, r.role, r.date,
                   r.debate_id, r.debate_title, quote, r.char_start + offset,
                   r.char_start + offset + len(quote), r.text, round(source.hit.score, 6),
                   r.translated, r.language if r.translated else "")


@dataclass
class Answer:
    question: str
    answer: str
    refused: bool
    generator: str
    latency_s: float
    citations: list[Citation]
    sources: list[Citation]
    standalone_question: str = ""
    filters: str = ""
    invalid_citations_removed: int = 0
    refusal_reason: str = ""
    closest_debates: list[dict[str, str]] = field(default_factory=list)
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    retrieval: list[dict[str, Any]] = field(default_factory=list)
    search_steps: list[str] = field(default_factory=list)  # query understanding, LLM steps

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["latency_s"] = round(self.latency_s, 3)
        return data


def check_citations(text: str, n_sources: int) -> tuple[str, list[int], int]:
    """Drop ``[n]`` markers that point to no given source.

    Returns the cleaned text, the valid numbers in order of first use, and how many
    invalid references were removed.
    """
    used: list[int] = []
    removed = 0

    def fix(match: re.Match[str]) -> str:
        nonlocal removed
        keep = []
        for part in match.group(1).split(","):
            n = int(part)
            if 1 <= n <= n_sources:
                keep.append(n)
                if n not in used:
                    used.append(n)
            else:
                removed += 1
        return "".join(f"[{n}]" for n in dict.fromkeys(keep))

    cleaned = CITATION_RE.sub(fix, text)
    cleaned = re.sub(r"[ \t]+([.,;:])", r"\1", cleaned)
    cleaned = re.sub(r"[ \t]{2,}", " ", cleaned)
    return cleaned.strip(), used, removed
