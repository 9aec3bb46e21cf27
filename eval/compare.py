"""``hemicycle eval compare``: two generators on the same retrieved sources, judged pairwise
(``--task arguments``: two extractors on the same speeches, ``eval.compare_arguments``).

For each question the sources are retrieved once (the assistant's ``prepare``: filters, refusal
threshold, widened passages); both generators answer from exactly those sources; every judge
sees both answers in both orders (``judge.judge_pair``).  LLM answers and verdicts are cached
on disk (``judge_client.CachedLLM``), so re-running the same comparison sends no request.
Without a judge key the judge-free metrics still run and ``judge_skipped`` says which
variable to set.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ingest.errors import ConfigError, InputError, ProviderError
from rag.answer import CITATION_RE, Source, check_citations
from rag.prompts import ANSWER_PROMPT_VERSION

from .judge import judge_pair, judged_summary
from .judge_client import CachedLLM, cache_key
from .judge_free import SentenceVectors, model_metrics, quotes_in, support_share
from .prompts import JUDGE_PROMPT_VERSION
from .questions import Question

__all__ = ["TASKS", "run_comparison", "REFUSED_TEXT"]

TASKS = ("answer", "arguments")
REFUSED_TEXT = "(No answer: the assistant said the sources do not answer the question.)"


class _NotCached(Exception):
    def __init__(self, value: dict[str, Any]) -> None:
        self.value = value


def _generate(llm: CachedLLM, generator: Any, question: str,
              sources: Sequence[Source]) -> dict[str, Any]:
    """One generator's raw answer on the sources (cached unless extractive or failed)."""
    def compute() -> dict[str, Any]:
        offline = generator.name == "extractive"
        llm.requests += 0 if offline else 1
        started = time.perf_counter()
        try:
            g = generator.generate(question, sources)
        except ProviderError as exc:
            raise _NotCached({"text": "", "refused": False, "quotes": {}, "latency_s": 0.0,
                              "prompt_tokens": None, "completion_tokens": None,
                              "error": str(exc)}) from None
        return {"text": g.text, "refused": g.refused, "quotes": {str(k): v for k, v in
                                                                 g.quotes.items()},
                "latency_s": round(time.perf_counter() - started, 4),
                "prompt_tokens": g.prompt_tokens, "completion_tokens": g.completion_tokens,
                "error": ""}

    key = cache_key(generator.name, ANSWER_PROMPT_VERSION,
                    [question, [(s.n, s.hit.record.chunk_id, s.text) for s in sources]])
    try:
        return compute() if generator.name == "extractive" else llm.cached(key, compute)
    except _NotCached as failed:
        return failed.value


def _output(raw: dict[str, Any], q: Question, sources: Sequence[Source],
            vectors: SentenceVectors) -> dict[str, Any]:
    """The checked answer and its judge-free measures."""
    numbers = [int(n) for m in CITATION_RE.findall(raw["text"]) for n in m.split(",")]
    text, used, _ = check_citations(raw["text"], len(sources))
    refused = bool(raw["refused"] or (not raw["error"] and not used))
    passages = {s.n: s.text for s in sources}
    supported, cited = (0, 0) if refused else support_share(vectors, text, passages)
    quotes = list(raw["quotes"].values()) or quotes_in(text)
    haystack = " ".join(" ".join(s.text.split()) for s in sources).lower()
    verbatim = sum(" ".join(quote.split()).lower() in haystack for quote in quotes)
    return {"text": text if not refused else "", "raw_text": raw["text"], "refused": refused,
            "error": raw["error"], "answerable": q.answerable,
            "words": len(text.split()) if not refused else 0,
            "markers": len(numbers), "markers_valid": sum(1 <= n <= len(sources)
                                                          for n in numbers),
            "cited": used, "supported": supported, "cited_sentences": cited,
            "quotes": len(quotes), "quotes_verbatim": verbatim,
            "latency_s": raw["latency_s"], "prompt_tokens": raw["prompt_tokens"],
            "completion_tokens": raw["completion_tokens"]}


def _shown(output: dict[str, Any]) -> str:
    return output["text"] if not output["refused"] else REFUSED_TEXT


def _judges(specs: Sequence[str], settings: Any, cache_dir: Path | None = None
            ) -> tuple[dict[str, Any], str]:
    """LLM clients for the judges, or the one line that says which variable is missing.

    Verdicts share the LLM result cache of enrichment (``HEMICYCLE_HOME/cache/llm.sqlite``)
    unless a ``cache_dir`` is given."""
    from ingest.llm import LLMClient, parse_spec
    from ingest.llmcache import LLMCache

    cache = LLMCache(cache_dir / "llm.sqlite") if cache_dir is not None else None
    clients = {}
    for spec in specs:
        try:
            clients[spec] = LLMClient(parse_spec(spec, settings), settings, cache=cache)
        except ConfigError as exc:
            return {}, f"judged part skipped: {exc}"
    return clients, ""


def run_comparison(services: Any, questions: Sequence[Question], spec_a: str, spec_b: str,
                   judges: Sequence[str], limit: int | None = None,
                   collection: str | None = None, task: str = "answer",
                   cache_dir: Path | None = None) -> dict[str, Any]:
    """The whole comparison as one JSON-ready dict (``report.write_reports`` renders it)."""
    if task not in TASKS:
        raise InputError(f"unknown --task {task!r}; use {' or '.join(TASKS)}")
    if spec_a == spec_b:
        raise InputError("--a and --b are the same " + ("generator" if task == "answer" else
                                                        "extractor"))
    if len(set(judges)) != len(judges):
        raise InputError("the same --judge is given twice")
    if task == "arguments":
        from .compare_arguments import run_argument_comparison

        return run_argument_comparison(services, questions, spec_a, spec_b, judges, limit,
                                       collection, cache_dir)
    settings = services.settings
    questions = list(questions)[:limit] if limit else list(questions)
    llm = CachedLLM(cache_dir or settings.cache_dir / "eval")
    generators = {"a": services.generator(spec_a), "b": services.generator(spec_b)}
    clients, skipped = _judges(judges, settings, cache_dir)
    assistant = services.assistant(spec_a, collection)
    vectors = SentenceVectors(services.embedder)
    started = time.perf_counter()
    pairs: list[dict[str, Any]] = []
    for q in questions:
        _, _, hits, refusal = assistant.prepare(q.question, filters=q.search_filters())
        sources = [Source(i + 1, hit) for i, hit in enumerate(hits)] if refusal is None else []
        pair: dict[str, Any] = {
            "qid": q.qid, "kind": q.kind, "question": q.question, "gold_ids": q.gold_ids,
            "answer_hint": q.answer_hint, "retrieval_refusal": refusal or "",
            "sources": [{"n": s.n, "speech_id": s.hit.record.speech_id,
                         "speaker": s.hit.record.speaker, "party": s.hit.record.party,
                         "date": s.hit.record.date, "debate": s.hit.record.debate_title,
                         "text": s.text} for s in sources],
            "judgements": {}}
        for side, generator in generators.items():
            raw = _generate(llm, generator, q.question, sources) if sources else {
                "text": "", "refused": True, "quotes": {}, "latency_s": 0.0,
                "prompt_tokens": None, "completion_tokens": None, "error": ""}
            pair[side] = _output(raw, q, sources, vectors)
        both_refused = pair["a"]["refused"] and pair["b"]["refused"]
        if sources and not both_refused and not (pair["a"]["error"] or pair["b"]["error"]):
            for spec, client in clients.items():
                pair["judgements"][spec] = judge_pair(
                    llm, client, spec, q.question, sources, _shown(pair["a"]),
                    _shown(pair["b"])).to_dict()
        pairs.append(pair)
    report: dict[str, Any] = {
        "kind": "compare", "task": task,
        "created": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "a": spec_a, "b": spec_b, "judges": list(judges),
        "judge_prompt": JUDGE_PROMPT_VERSION, "answer_prompt": ANSWER_PROMPT_VERSION,
        "questions": len(questions), "judge_skipped": skipped,
        "not_judged": sum(1 for p in pairs if not p["judgements"]),
        "requests": llm.requests, "cache_hits": llm.cache_hits,
        "seconds": round(time.perf_counter() - started, 2),
        "metrics": {side: model_metrics([p[side] for p in pairs]) for side in ("a", "b")},
        **judged_summary(pairs, judges, clients, [spec_a, spec_b]),
        "pairs": pairs,
    }
    report["run_id"] = _run_id(report)
    return report


def _run_id(report: dict[str, Any]) -> str:
    digest = hashlib.sha256(f"{report['a']}|{report['b']}|{report['judges']}|"
                            f"{[p['qid'] for p in report['pairs']]}".encode()).hexdigest()[:6]
    return f"compare-{report['created'].replace(':', '').replace('-', '')}-{digest}"
