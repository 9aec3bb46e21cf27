"""The offline generator: quotes the retrieved sentences most relevant to the question.

Sentences are scored against the question with the same embedder as retrieval, the best
are kept (at most two per source), grouped by speaker and each followed by its ``[n]``.
It never writes a word of its own beyond the speaker labels: deterministic and honest.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from ingest.embedder import Embedder

from .answer import Generation, Source, Turn
from .conversation import carry_subject
from .text import sentences

__all__ = ["ExtractiveGenerator"]

MIN_WORDS = 5


@dataclass(frozen=True)
class _Candidate:
    n: int
    sentence: str
    score: float
    order: int


class ExtractiveGenerator:
    name = "extractive"

    def __init__(self, embedder: Embedder, max_sentences: int = 6, per_source: int = 2,
                 min_score: float = 0.20, relative: float = 0.5) -> None:
        self.embedder = embedder
        self.max_sentences = max_sentences
        self.per_source = per_source
        self.min_score = min_score  # absolute floor of cosine similarity
        self.relative = relative  # and at least this fraction of the best sentence's score

    def _candidates(self, question: str, sources: Sequence[Source]) -> list[_Candidate]:
        pool = [(s.n, sentence) for s in sources for sentence in sentences(s.text)
                if len(sentence.split()) >= MIN_WORDS]
        if not pool:
            return []
        vectors = self.embedder.encode([question] + [sentence for _, sentence in pool])
        scores = vectors[1:] @ vectors[0]
        ranked = sorted(range(len(pool)), key=lambda i: (-float(scores[i]), i))
        return [_Candidate(pool[i][0], pool[i][1], float(scores[i]), i) for i in ranked]

    def generate(self, question: str, sources: Sequence[Source]) -> Generation:
        by_n = {s.n: s for s in sources}
        chosen: list[_Candidate] = []
        per: dict[int, int] = {}
        candidates = self._candidates(question, sources)
        floor = max(self.min_score, self.relative * candidates[0].score) if candidates else 1.0
        for cand in candidates:
            if cand.score < floor or len(chosen) >= self.max_sentences:
                break
            if per.get(cand.n, 0) >= self.per_source:
                continue
            per[cand.n] = per.get(cand.n, 0) + 1
            chosen.append(cand)
        if not chosen:
            return Generation(text="", refused=True, model=self.name)
        # group by speaker, speakers in order of their best sentence, sentences in text order
        groups: dict[str, list[_Candidate]] = {}
        for cand in chosen:
            groups.setdefault(by_n[cand.n].header().split(" — ")[0], []).append(cand)
        lines = []
        quotes: dict[int, str] = {}
        for speaker, cands in groups.items():
            cands.sort(key=lambda c: (c.n, c.order))
            quoted = " ".join(f"“{c.sentence}” [{c.n}]" for c in cands)
            record = by_n[cands[0].n].hit.record
            lines.append(f"**{speaker}** ({record.date}, {record.debate_title}): {quoted}")
            for c in cands:
                quotes.setdefault(c.n, c.sentence)
        return Generation(text="\n\n".join(lines), quotes=quotes, model=self.name)

    def stream(self, question: str, sources: Sequence[Source]) -> Iterator[str | Generation]:
        generation = self.generate(question, sources)
        if generation.text:
            yield generation.text
        yield generation

    def rewrite(self, question: str, history: Sequence[Turn]) -> str:
        return carry_subject(question, history)
