"""The offline generator: quotes the retrieved sentences most relevant to the question.

1. Sources far less relevant than the best one are set aside (the two best-ranked are always
   kept), so a question about Mercosur is not answered with quotes from a farming debate.
2. Sentences that state something (not questions) are scored against the question's topic
   (without group names, which are already a filter, and without interrogative framing)
   with the same embedder as retrieval; each sentence is embedded with its debate title,
   as passages are, so "the beef quota is 99,000 tonnes" stays about Mercosur.
3. The best are kept by maximal marginal relevance (relevant, and not a point already
   quoted; at most two per source), the salutation that opens a speech is left
   out of the quote, and the quotes are grouped by speaker, each followed by its ``[n]``.

It never writes a word of its own beyond the speaker labels: deterministic and honest.

With arguments extracted (``hemicycle enrich``), a question about what someone argued
("what did X argue / propose / oppose…") draws its quotes from the verified claim quotes
found in each passage instead of from all of its sentences.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from ingest.embedder import Embedder

from .answer import Generation, Source, Turn
from .conversation import carry_subject, strip_groups
from .text import sentences

__all__ = ["ExtractiveGenerator", "topic_of", "trim_salutation"]

MIN_WORDS = 5
_ADDRESS = (r"(?:Madam|Mr|Mister)\s+(?:President|Vice-President|Chair(?:man|woman)?)|"
            r"(?:Madam|Mr)\s+Commissioner|Commissioners?|(?:Madam|Mr)\s+Minister|Ministers?|"
            r"(?:Mr|Madam)\s+High\s+Representative|High\s+Representative|"
            r"(?:dear\s+|honourable\s+)?(?:colleagues|Members|friends)|ladies\s+and\s+gentlemen")
_SALUTATION = re.compile(
    rf"^(?:(?:{_ADDRESS})\s*[,:;]?\s*(?:and\s+)?)+"
    r"(?:on\s+behalf\s+of\s+(?:the\s+|my\s+)?[^,:.]{2,60}?(?:Group|group)\s*[,:;]\s*)?",
    re.IGNORECASE)


_INTERROGATIVE = re.compile(
    r"^\s*(?:and\s+|but\s+|so\s+)?(?:what|who|whom|which|how|why|when|where|did|does|do|is|are|was|were)"
    r"(?:\s+(?:much|many|did|does|do|is|are|was|were|has|have|had|the|a|an|MEPs?|speakers?|"
    r"members?|groups?|politicians?|they|he|she|it))*\b\s*", re.IGNORECASE)


_ARGUE = re.compile(r"\b(argu\w*|position|stance|claim\w*|propos\w*|oppos\w*|support\w*|"
                    r"criticis\w*|conditions?|demand\w*|warn\w*|why)\b", re.IGNORECASE)


def topic_of(question: str) -> str:
    """What a question is about: no group names (they are filters), no interrogative framing."""
    topic = _INTERROGATIVE.sub("", strip_groups(question)).strip(" ?")
    return topic if len(topic.split()) >= 2 else question


def trim_salutation(sentence: str) -> str:
    """The sentence without the forms of address that open a speech (an exact suffix)."""
    match = _SALUTATION.match(sentence)
    if not match or not match.group(0):
        return sentence
    rest = sentence[match.end():].lstrip(" –—-")
    return rest if len(rest.split()) >= MIN_WORDS else sentence


@dataclass(frozen=True)
class _Candidate:
    n: int
    sentence: str
    score: float  # cosine similarity to the question's topic
    order: int  # position in the pool: sources in rank order, sentences in text order


class ExtractiveGenerator:
    name = "extractive"

    def __init__(self, embedder: Embedder, max_sentences: int = 6, per_source: int = 2,
                 min_score: float = 0.20, relative: float = 0.5,
                 source_margin: float = 0.12, diversity: float = 0.3,
                 claims: Callable[[str], Sequence[str]] | None = None) -> None:
        self.embedder = embedder
        self.claims = claims  # speech_id -> verified claim quotes (none without enrichment)
        self.max_sentences = max_sentences
        self.per_source = per_source
        self.min_score = min_score  # absolute floor of cosine similarity
        self.relative = relative  # and at least this fraction of the best sentence's score
        self.source_margin = source_margin  # sources this far below the best one are dropped
        self.diversity = diversity  # MMR weight against repeating an already chosen point

    def _relevant_sources(self, sources: Sequence[Source]) -> list[Source]:
        if not sources:
            return []
        best = max(s.hit.dense_score for s in sources)
        return [s for s in sources
                if s.hit.rank == 1 or s.hit.dense_score >= best - self.source_margin]

    def _select(self, question: str, sources: Sequence[Source]) -> list[_Candidate]:
        """Relevant sentences by maximal marginal relevance (relevant, and not said twice)."""
        import numpy as np

        pool = []
        argue = self.claims is not None and bool(_ARGUE.search(question))
        for source in sources:
            quotes = [q for q in self.claims(source.hit.record.speech_id)
                      if q in source.text] if argue and self.claims else []
            for sentence in quotes or sentences(source.text):
                quote = trim_salutation(sentence)
                if len(quote.split()) >= MIN_WORDS and not quote.endswith("?"):  # claims only
                    pool.append((source, quote))
        if not pool:
            return []
        vectors = self.embedder.encode(
            [topic_of(question)] + [f"{s.hit.record.debate_title}: {q}" for s, q in pool])
        relevance = vectors[1:] @ vectors[0]
        floor = max(self.min_score, self.relative * float(relevance.max()))
        open_ = [i for i in range(len(pool)) if relevance[i] >= floor]
        chosen: list[int] = []
        per: dict[int, int] = {}
        redundancy = np.zeros(len(pool), dtype=np.float32)
        while open_ and len(chosen) < self.max_sentences:
            best = max(open_, key=lambda i: (float(relevance[i] - self.diversity * redundancy[i]),
                                             -i))
            open_.remove(best)
            n = pool[best][0].n
            if per.get(n, 0) >= self.per_source:
                continue
            per[n] = per.get(n, 0) + 1
            chosen.append(best)
            redundancy = np.maximum(redundancy, vectors[1:] @ vectors[1 + best])
        return [_Candidate(pool[i][0].n, pool[i][1], float(relevance[i]), i) for i in chosen]

    def generate(self, question: str, sources: Sequence[Source]) -> Generation:
        by_n = {s.n: s for s in sources}
        chosen = self._select(question, self._relevant_sources(sources))
        if not chosen:
            return Generation(text="", refused=True, model=self.name)
        # group by speaker and debate, in order of their best sentence, sentences in text order
        groups: dict[tuple[str, str], list[_Candidate]] = {}
        for cand in chosen:
            source = by_n[cand.n]
            key = (source.header().split(" — ")[0], source.hit.record.debate_id)
            groups.setdefault(key, []).append(cand)
        lines = []
        quotes: dict[int, str] = {}
        for (speaker, _), cands in groups.items():
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
