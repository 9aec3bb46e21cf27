"""Question → standalone query → filtered hybrid retrieval → generator → checked answer.

Refusal happens in two places: before generation when nothing retrieved is relevant enough
(best cosine similarity below ``refusal_threshold``, calibrated on the sample corpus, see the
README), and after generation when the generator says the sources do not answer or gives no
valid citation.  Either way the reply lists the closest debates and nothing else.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import replace

from .answer import Answer, Citation, Generation, Source, Turn, check_citations
from .comparison import asks_for_groups, balanced_search, group_slots
from .conversation import groups_mentioned
from .filters import SearchFilters
from .generators import Generator
from .llmsearch import LLMSearch, SearchRun
from .refusal import CHECKS, RefusalChecks
from .retriever import Hit, Retriever
from .text import best_sentence

__all__ = ["Assistant", "REFUSAL_TEXT"]

REFUSAL_TEXT = ("The debates in this corpus do not address this question"
                "{filters}{why}. Closest debates: {closest}.")


class Assistant:
    def __init__(self, retriever: Retriever, generator: Generator, k: int = 8,
                 mode: str = "hybrid", refusal_threshold: float = 0.30,
                 per_speech: int = 3, min_passage_words: int = 120,
                 llm_search: LLMSearch | None = None, group_depth: int = 4) -> None:
        self.retriever = retriever
        self.llm_search = llm_search  # rag.llmsearch: rewriting, multi-query, reranking
        # "who opposed X?" and comparisons without named groups: the top k of k × group_depth
        # hits, one slot per group of the best debate (0 = off)
        self.group_depth = group_depth
        self.min_passage_words = min_passage_words  # shorter passages get their neighbours
        self.per_speech = per_speech  # passages of one speech among the k sources
        self.generator = generator
        self.k = k
        self.mode = mode
        self.refusal_threshold = refusal_threshold
        self._checks: RefusalChecks | None = None

    @property
    def checks(self) -> RefusalChecks:
        if self._checks is None:
            self._checks = RefusalChecks(self.retriever.index)
        return self._checks

    # -- the steps -----------------------------------------------------------------------------
    def prepare(self, question: str, history: Sequence[Turn] = (),
                filters: SearchFilters | None = None
                ) -> tuple[str, SearchFilters, list[Hit], str | None]:
        """Standalone query, effective filters, hits, and a refusal reason (or None)."""
        return self._prepare(question, history, filters)[:4]

    def _prepare(self, question: str, history: Sequence[Turn] = (),
                 filters: SearchFilters | None = None
                 ) -> tuple[str, SearchFilters, list[Hit], str | None, SearchRun]:
        run = SearchRun()
        standalone = self.generator.rewrite(question, history) if history else question
        filters = filters or SearchFilters()
        if not filters.parties:
            named = groups_mentioned(question if history else standalone)
            if named:
                filters = replace(filters, parties=named)
        if len(filters.parties) >= 2:  # each group gets its share of the sources
            hits = balanced_search(self.retriever, standalone, self.k, self.mode, filters,
                                   self.per_speech, filters.parties)
        else:
            grouped = bool(self.group_depth) and asks_for_groups(standalone)
            k = self.k * self.group_depth if grouped else self.k
            if self.llm_search is not None:
                hits, run = self.llm_search.search(self.retriever, standalone, k, self.mode,
                                                   filters, self.per_speech)
            else:
                hits = self.retriever.search(standalone, k=k, mode=self.mode,
                                             filters=filters, per_speech=self.per_speech)
            if grouped:  # "who opposed X?": every group that spoke gets its slot
                hits = group_slots(hits, self.k)
                run.steps.append("one source per group that spoke in the best-matching debate")
        hints = self.retriever.hints(standalone)
        if hints.speakers and not filters.speakers:  # rag.fusion may boost them (weight fitted)
            run.named = " or ".join(hints.speakers)
        if self.min_passage_words:
            taken = frozenset(h.record.chunk_id for h in hits)
            hits = [replace(h, record=self.retriever.index.widen(
                h.record, self.min_passage_words, taken - {h.record.chunk_id})) for h in hits]
        refusal = self.checks.run(standalone, hits)  # rag.refusal: what the corpus knows
        if not hits:
            return standalone, filters, hits, str(refusal or "no passage matches the filters"), run
        best = max(hit.dense_score for hit in hits)
        if best < self.refusal_threshold:
            return standalone, filters, hits, (
                f"best similarity {best:.2f} is below the threshold "
                f"{self.refusal_threshold:.2f}"), run
        return standalone, filters, hits, str(refusal) if refusal else None, run

    def ask(self, question: str, history: Sequence[Turn] = (),
            filters: SearchFilters | None = None) -> Answer:
        result = None
        for item in self.ask_stream(question, history, filters):
            if isinstance(item, Answer):
                result = item
        assert result is not None
        return result

    def ask_stream(self, question: str, history: Sequence[Turn] = (),
                   filters: SearchFilters | None = None) -> Iterator[str | Answer]:
        """Yield answer text deltas as they come, then the checked ``Answer`` last."""
        started = time.perf_counter()
        standalone, filters, hits, refusal, run = self._prepare(question, history, filters)
        sources = [Source(i + 1, hit) for i, hit in enumerate(hits)]
        if refusal is not None:
            yield self._refuse(question, standalone, filters, hits, refusal, started, run)
            return
        generation: Generation | None = None
        for item in self.generator.stream(standalone, sources):
            if isinstance(item, Generation):
                generation = item
            else:
                yield item
        assert generation is not None
        text, used, removed = check_citations(generation.text, len(sources))
        if generation.refused or not used:
            reason = ("the generator found no answer in the retrieved passages"
                      if generation.refused else "the generated answer cited no given source")
            answer = self._refuse(question, standalone, filters, hits, reason, started, run)
            answer.invalid_citations_removed = removed
            yield answer
            return
        citations = [Citation.from_source(sources[n - 1], generation.quotes.get(n) or
                                          best_sentence(sources[n - 1].text,
                                                        _claim_for(text, n)))
                     for n in sorted(used)]
        yield Answer(
            question=question, answer=text, refused=False, generator=self.generator.name,
            latency_s=time.perf_counter() - started, citations=citations,
            sources=[Citation.from_source(s) for s in sources], standalone_question=standalone,
            filters=_describe(filters, run), invalid_citations_removed=removed,
            prompt_tokens=generation.prompt_tokens,
            completion_tokens=generation.completion_tokens,
            retrieval=[_scores(hit) for hit in hits], search_steps=run.steps,
        )

    def _refuse(self, question: str, standalone: str, filters: SearchFilters,
                hits: list[Hit], reason: str, started: float,
                run: SearchRun | None = None) -> Answer:
        if not hits and filters.active:  # still show where the corpus comes closest
            hits = self.retriever.search(standalone, k=self.k, mode=self.mode)
        closest: dict[str, dict[str, str]] = {}
        for hit in hits:
            r = hit.record
            closest.setdefault(r.debate_id, {"debate_id": r.debate_id,
                                             "debate_title": r.debate_title, "date": r.date})
        listed = list(closest.values())[:3]
        text = REFUSAL_TEXT.format(
            filters=f" (with {filters.describe()})" if filters.active else "",
            why=f" ({reason})" if reason.split(":")[0] in CHECKS else "",
            closest="; ".join(f"{d['debate_title']} ({d['date']})" for d in listed) or "none")
        return Answer(
            question=question, answer=text, refused=True, generator=self.generator.name,
            latency_s=time.perf_counter() - started, citations=[], sources=[],
            standalone_question=standalone, filters=_describe(filters, run),
            refusal_reason=reason,
            closest_debates=listed, retrieval=[_scores(hit) for hit in hits],
            search_steps=run.steps if run else [],
        )


def _describe(filters: SearchFilters, run: SearchRun | None) -> str:
    """The filters line of an answer: the filters, then the speakers the question names (the
    extractive answer quotes them; ``rag.fusion`` boosts them by its fitted weight)."""
    text = filters.describe()
    if run is not None and run.named:
        text = (f"{text}; " if filters.active else "") + "speaker named in the question: " \
            + run.named
    return text


def _claim_for(text: str, n: int) -> str:
    """The sentence of the answer that carries ``[n]``."""
    marker = f"[{n}]"
    for sentence in text.replace("\n", " ").split(". "):
        if marker in sentence:
            return sentence
    return text


def _scores(hit: Hit) -> dict[str, object]:
    return {"chunk_id": hit.record.chunk_id, "speech_id": hit.record.speech_id,
            "score": round(hit.score, 6), "dense": round(hit.dense_score, 6),
            "bm25": round(hit.bm25_score, 6)}
