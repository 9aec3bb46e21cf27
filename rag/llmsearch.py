"""LLM steps around retrieval: query rewriting, multi-query expansion, listwise reranking.

All three are off by default (the offline ``extractive`` answer needs none of them) and each
is switched on by itself (``HEMICYCLE_SEARCH_REWRITE``, ``HEMICYCLE_SEARCH_QUERIES``,
``HEMICYCLE_SEARCH_RERANK``, or ``--rewrite/--queries/--rerank`` on ``ask`` and ``search``).
They go through the shared client layer (``ingest.llm``: rate limiter, retries, one repair
of invalid JSON, on-disk cache keyed by the prompt version), so asking the same question
twice costs no request.

- **Rewriting** turns the question into a search query (the names, groups, dates and key
  terms kept, the conversational framing dropped).
- **Multi-query** adds up to N alternative queries (synonyms, the formal name of a file, the
  other language's term); each is retrieved on its own and the rankings are merged by
  reciprocal-rank fusion, as RAG-Fusion does.
- **Listwise reranking** shows the LLM the top N passages (speaker, group, date, debate and
  the passage) and takes back their order, most useful first; numbers it leaves out keep
  their retrieval order after the ones it ranked.

A step whose LLM call still fails after the retries is skipped and said so in
``SearchRun.steps`` (the answer's ``search_steps``): retrieval never fails because of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import BaseModel, Field

from ingest.errors import ConfigError, ProviderError

from .prompts import (QUERIES_PROMPT_VERSION, RERANK_PROMPT_VERSION, queries_messages,
                      rerank_messages)
from .retriever import Hit

__all__ = ["SearchOptions", "SearchRun", "LLMSearch", "make_llm_search", "rrf_merge"]

RRF_K = 60


class SearchQueries(BaseModel):
    query: str = Field(min_length=1, max_length=400)
    alternatives: list[str] = Field(default_factory=list, max_length=8)


class Ranking(BaseModel):
    order: list[int] = Field(max_length=100)


@dataclass(frozen=True)
class SearchOptions:
    """Which LLM steps run: ``rewrite`` the question, add ``queries`` alternatives, rerank
    the top ``rerank`` candidates (0 = off)."""

    rewrite: bool = False
    queries: int = 0
    rerank: int = 0

    @property
    def active(self) -> bool:
        return self.rewrite or self.queries > 0 or self.rerank > 0

    @classmethod
    def from_settings(cls, settings: Any, rewrite: bool | None = None,
                      queries: int | None = None, rerank: int | None = None) -> SearchOptions:
        """The settings' steps (``HEMICYCLE_SEARCH_*``), overridden by the values given."""
        return cls(settings.search_rewrite if rewrite is None else rewrite,
                   settings.search_queries if queries is None else queries,
                   settings.search_rerank if rerank is None else rerank)


@dataclass
class SearchRun:
    """What the LLM steps did for one question (shown as the answer's ``search_steps``)."""

    queries: list[str] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)
    named: str = ""  # the speakers the question names (rag.query), for the filters line


def rrf_merge(rankings: Sequence[Sequence[Hit]], k: int, rrf_k: int = RRF_K) -> list[Hit]:
    """Reciprocal-rank fusion of several hit lists (one per query), by chunk; a chunk keeps
    the hit of the query where it ranked best.  Ranks are renumbered from 1."""
    score: dict[str, float] = {}
    best: dict[str, Hit] = {}
    for hits in rankings:
        for position, hit in enumerate(hits):
            cid = hit.record.chunk_id
            score[cid] = score.get(cid, 0.0) + 1.0 / (rrf_k + position + 1)
            if cid not in best or hit.rank < best[cid].rank:
                best[cid] = hit
    order = sorted(score, key=lambda cid: (-score[cid], best[cid].rank, cid))[:k]
    return [replace(best[cid], rank=i + 1) for i, cid in enumerate(order)]


class LLMSearch:
    """The LLM steps of one configuration, over an ``ingest.llm.LLMClient``."""

    def __init__(self, client: Any, options: SearchOptions) -> None:
        self.client = client
        self.options = options

    @property
    def name(self) -> str:
        return str(self.client.spec.name)

    def queries(self, question: str, run: SearchRun) -> list[str]:
        """The queries to retrieve with: the question (or its rewrite) and the alternatives."""
        opts = self.options
        if not (opts.rewrite or opts.queries):
            return [question]
        try:
            plan = self.client.complete_json(
                queries_messages(question, opts.queries), SearchQueries,
                prompt_version=QUERIES_PROMPT_VERSION, max_tokens=300)
        except (ProviderError, ConfigError) as exc:
            run.steps.append(f"query rewriting skipped ({exc})")
            return [question]
        first = plan.query.strip() if opts.rewrite and plan.query.strip() else question
        wanted = [first] + ([question] if first != question else [])
        wanted += [q.strip() for q in plan.alternatives[:opts.queries]]
        queries = list(dict.fromkeys(q for q in wanted if q))
        if opts.rewrite:
            run.steps.append(f"rewritten by {self.name}: {first!r}")
        if len(queries) > 1:
            run.steps.append(f"{len(queries)} queries merged by reciprocal-rank fusion: "
                             + "; ".join(repr(q) for q in queries))
        return queries

    def rerank(self, question: str, hits: Sequence[Hit], run: SearchRun) -> list[Hit]:
        """The top ``options.rerank`` hits in the LLM's order, the rest after them."""
        n = min(self.options.rerank, len(hits))
        if n < 2:
            return list(hits)
        head, tail = list(hits[:n]), list(hits[n:])
        try:
            ranking = self.client.complete_json(rerank_messages(question, head), Ranking,
                                                prompt_version=RERANK_PROMPT_VERSION,
                                                max_tokens=20 + 6 * n)
        except (ProviderError, ConfigError) as exc:
            run.steps.append(f"reranking skipped ({exc})")
            return list(hits)
        order = [i - 1 for i in dict.fromkeys(ranking.order) if 1 <= i <= n]
        order += [i for i in range(n) if i not in order]
        run.steps.append(f"top {n} reranked by {self.name}")
        return [replace(hit, rank=i + 1) for i, hit in
                enumerate([head[i] for i in order] + tail)]

    def search(self, retriever: Any, question: str, k: int, mode: str, filters: Any,
               per_speech: int = 1) -> tuple[list[Hit], SearchRun]:
        """``retriever.search`` with the switched-on steps around it."""
        run = SearchRun()
        queries = self.queries(question, run)
        run.queries = queries
        depth = max(k, self.options.rerank)
        rankings = [retriever.search(q, k=depth, mode=mode, filters=filters,
                                     per_speech=per_speech) for q in queries]
        hits = rankings[0] if len(rankings) == 1 else rrf_merge(rankings, depth)
        if self.options.rerank:
            hits = self.rerank(question, hits, run)
        return hits[:k], run


def make_llm_search(settings: Any, generator: str | None,
                    options: SearchOptions | None = None) -> LLMSearch | None:
    """The configured LLM steps (``options`` overrides the settings), or None when all are off.

    Their LLM is ``HEMICYCLE_SEARCH_LLM``, else the generator when it is an LLM; with the
    offline generator and no search LLM, switching a step on is a ``ConfigError``."""
    from ingest.llm import LLMClient, parse_spec

    if options is None:
        options = SearchOptions.from_settings(settings)
    if not options.active:
        return None
    spec = settings.search_llm or (generator if generator and
                                   generator.startswith(("groq:", "openai:")) else None)
    if spec is None:
        raise ConfigError("query rewriting, multi-query and reranking need an LLM: set "
                          "HEMICYCLE_SEARCH_LLM (groq:MODEL or openai:MODEL@BASE_URL) or use "
                          "an LLM generator")
    return LLMSearch(LLMClient(parse_spec(spec, settings), settings), options)
