"""The offline generator: quotes the retrieved sentences that answer the question.

1. The chair's remarks are never quoted (it runs the sitting, it argues nothing), and sources
   far less relevant than the best one are set aside (the two best-ranked are always kept), so
   a question about Mercosur is not answered with quotes from a farming debate.
2. Only claims are candidates (``rag.claims``): no salutation, thanks, procedural line,
   framing ("Let me start with…"), question or slogan without content.  They are scored
   against the question's topic (without group names, which are already a filter, and
   without interrogative framing) with the same embedder as retrieval; each is embedded with
   its debate title, as passages are, so "the beef quota is 99,000 tonnes" stays about
   Mercosur.  A claim sharing no content word with the topic is kept only when it is among
   the closest in meaning and long enough to say something (a paraphrase, not a slogan).
3. The best are kept by maximal marginal relevance (relevant, and not a point already
   quoted; at most two per source), one paragraph per speech under its own speaker.
4. A question about what a named speaker (or "the Commission", "the Council") said is
   answered from that speaker's own passages when the sources hold any, with up to
   ``focus_per_source`` claims of each, rather than from whoever else ranked well.
5. A comparison ("EPP vs Greens on X", "how did the groups differ…") is answered side by side:
   each group under its own heading with its own speakers, and a named group with no source
   is said to have none rather than silently left out.

It never writes a word of its own beyond speaker labels, group headings and that notice.

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
from .claims import claim_of, content_terms, is_chair, trim_salutation
from .comparison import is_comparison, named_sides
from .conversation import carry_subject, strip_groups
from .lexical import tokenize
from .text import sentences

__all__ = ["ExtractiveGenerator", "topic_of", "trim_salutation", "NO_SOURCE"]

NO_SOURCE = "*No retrieved passage from the {side} group.*"
MAX_SIDES = 4
_INSTITUTION = re.compile(r"\b(?:did|does|do|has|had|would|will)\s+the\s+(Commission(?:er)?|"
                          r"Council|Presidency)\b|\bthe\s+(Commission(?:er)?|Council|Presidency)"
                          r"(?:'s)?\s+(?:say|said|argue\w*|announce\w*|propos\w*|promis\w*|"
                          r"position|answer\w*|repl\w*|expla\w*)\b", re.IGNORECASE)

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
                 off_topic_margin: float = 0.05, focus_per_source: int = 4,
                 claims: Callable[[str], Sequence[str]] | None = None) -> None:
        self.embedder = embedder
        self.claims = claims  # speech_id -> verified claim quotes (none without enrichment)
        self.max_sentences = max_sentences
        self.per_source = per_source
        self.min_score = min_score  # absolute floor of cosine similarity
        self.relative = relative  # and at least this fraction of the best sentence's score
        self.source_margin = source_margin  # sources this far below the best one are dropped
        self.diversity = diversity  # MMR weight against repeating an already chosen point
        # a claim sharing no content word with the topic must be within this of the best
        self.off_topic_margin = off_topic_margin
        self.focus_per_source = focus_per_source  # claims per source of a named speaker

    def _relevant_sources(self, sources: Sequence[Source]) -> list[Source]:
        sources = [s for s in sources if not is_chair(s.hit.record.speaker, s.hit.record.role)]
        if not sources:
            return []
        best = max(s.hit.dense_score for s in sources)
        first = min(s.hit.rank for s in sources)
        return [s for s in sources
                if s.hit.rank == first or s.hit.dense_score >= best - self.source_margin]

    def _focus(self, question: str, sources: Sequence[Source]) -> list[Source]:
        """The sources of the speaker(s) the question asks about, or none."""
        from .query import SpeakerMatcher

        named = set(SpeakerMatcher({s.hit.record.speaker for s in sources}).find(question))
        if named:
            return [s for s in sources if s.hit.record.speaker in named]
        institution = _INSTITUTION.search(question)
        if institution:
            word = (institution.group(1) or institution.group(2)).lower()
            word = "commission" if word.startswith("commission") else word
            return [s for s in sources if word in s.hit.record.role.lower()]
        return []

    def _select(self, question: str, sources: Sequence[Source],
                limit: int, per_source: int | None = None) -> list[_Candidate]:
        """Relevant claims by maximal marginal relevance (relevant, and not said twice)."""
        import numpy as np

        argue = self.claims is not None and bool(_ARGUE.search(question))
        pool = []
        for source in sources:
            verified = [q for q in self.claims(source.hit.record.speech_id)
                        if q in source.text] if argue and self.claims else []
            pool.extend((source, quote) for sentence in verified or sentences(source.text)
                        if (quote := claim_of(sentence)) is not None)
        if not pool:
            return []
        topic = topic_of(question)
        vectors = self.embedder.encode(
            [topic] + [f"{s.hit.record.debate_title}: {q}" for s, q in pool])
        relevance = vectors[1:] @ vectors[0]
        top = float(relevance.max())
        floor = max(self.min_score, self.relative * top)
        terms = set(tokenize(topic))
        open_ = [i for i in range(len(pool)) if relevance[i] >= floor and (
            terms & set(tokenize(pool[i][1])) or (relevance[i] >= top - self.off_topic_margin
                                                  and len(content_terms(pool[i][1])) >= 5))]
        chosen: list[int] = []
        per: dict[int, int] = {}
        redundancy = np.zeros(len(pool), dtype=np.float32)
        while open_ and len(chosen) < limit:
            best = max(open_, key=lambda i: (float(relevance[i] - self.diversity * redundancy[i]),
                                             -i))
            open_.remove(best)
            n = pool[best][0].n
            if per.get(n, 0) >= (per_source or self.per_source):
                continue
            per[n] = per.get(n, 0) + 1
            chosen.append(best)
            redundancy = np.maximum(redundancy, vectors[1:] @ vectors[1 + best])
        return [_Candidate(pool[i][0].n, pool[i][1], float(relevance[i]), i) for i in chosen]

    def _paragraphs(self, chosen: Sequence[_Candidate], by_n: dict[int, Source],
                    quotes: dict[int, str]) -> list[str]:
        """One paragraph per speech, in order of its best claim; claims in text order."""
        groups: dict[str, list[_Candidate]] = {}
        for cand in chosen:
            groups.setdefault(by_n[cand.n].hit.record.speech_id, []).append(cand)
        lines = []
        for cands in groups.values():
            cands.sort(key=lambda c: (c.n, c.order))
            source = by_n[cands[0].n]
            record = source.hit.record
            speaker = source.header().split(" — ")[0]
            quoted = " ".join(f"“{c.sentence}” [{c.n}]" for c in cands)
            lines.append(f"**{speaker}** ({record.date}, {record.debate_title}): {quoted}")
            for c in cands:
                quotes.setdefault(c.n, c.sentence)
        return lines

    def _sides(self, question: str, sources: Sequence[Source]) -> tuple[str, ...]:
        if not is_comparison(question):
            return ()
        named = named_sides(question)
        if named:
            return named
        present = [s.hit.record.party for s in sources if s.hit.record.party]
        found = tuple(dict.fromkeys(present))[:MAX_SIDES]
        return found if len(found) >= 2 else ()

    def generate(self, question: str, sources: Sequence[Source]) -> Generation:
        by_n = {s.n: s for s in sources}
        speakers = [s for s in sources if not is_chair(s.hit.record.speaker, s.hit.record.role)]
        quotes: dict[int, str] = {}
        sides = self._sides(question, speakers)
        focus = self._focus(question, speakers) if not sides else []
        lines: list[str] = []
        if focus:
            chosen = self._select(question, focus, self.max_sentences, self.focus_per_source)
            lines = self._paragraphs(chosen, by_n, quotes)
        if not sides and not quotes:
            chosen = self._select(question, self._relevant_sources(speakers),
                                  self.max_sentences)
            lines = self._paragraphs(chosen, by_n, quotes)
        elif sides:
            each = max(2, self.max_sentences // len(sides))
            for side in sides:
                own = [s for s in speakers if s.hit.record.party == side]
                chosen = self._select(question, self._relevant_sources(own), each)
                lines.append(f"**{side}**")
                lines.extend(self._paragraphs(chosen, by_n, quotes) or
                             [NO_SOURCE.format(side=side)])
        if not quotes:
            return Generation(text="", refused=True, model=self.name)
        return Generation(text="\n\n".join(lines), quotes=quotes, model=self.name)

    def stream(self, question: str, sources: Sequence[Source]) -> Iterator[str | Generation]:
        generation = self.generate(question, sources)
        if generation.text:
            yield generation.text
        yield generation

    def rewrite(self, question: str, history: Sequence[Turn]) -> str:
        return carry_subject(question, history)
