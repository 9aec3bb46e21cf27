"""``hemicycle eval compare --task arguments``: two extractors on the same speeches, judged pairwise.

- Speeches: for each question of the set (in order), the speeches of its retrieved sources (the
  assistant's ``prepare``, as for ``--task answer``: filters, refusal threshold), in rank order,
  each speech once, at most ``limit`` speeches (``DEFAULT_SPEECHES`` without one).  Questions
  refused before generation contribute none.
- Extraction: exactly the ``hemicycle enrich`` path (``ingest.enrich.extract_speech``: the
  ``arguments-v1`` prompt through ``ingest.llm.LLMClient``, its limiter, retries and on-disk
  cache; validation; quotes located in the speech by ``ingest.quotes``), or the offline
  ``heuristic``.  A failed extraction is recorded for its speech, never raised.
- Judge: both extractions rendered as text (``render_extraction``), labelled A and B, in both
  orders, with the speech (prompt ``judge-arguments-v1``); the verdict and all statistics are
  those of ``eval.judge`` (its ``Scores`` keys read as ``EXTRACTION_CRITERIA``).
- Without the judge: per model quotes verified (located in the speech, as enrichment keeps
  them) and verbatim (exact as given), claims per speech, stances, latency, tokens, failures;
  between the models stance agreement and Cohen's kappa, and topic overlap (Jaccard).
Extractions are also kept in the evaluation cache with their latency and tokens, so a re-run
sends no request, recomputes nothing and reports the same figures.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ingest.errors import ProviderError, QuotaExhausted

from .judge import judge_pair, judged_summary, kappa
from .judge_client import CachedLLM, cache_key
from .judge_free import _percentile
from .prompts import EXTRACTION_JUDGE_PROMPT_VERSION, extraction_judge_messages
from .questions import Question

__all__ = ["DEFAULT_SPEECHES", "run_argument_comparison", "retrieved_speeches",
           "render_extraction", "argument_metrics", "extraction_agreement"]

DEFAULT_SPEECHES = 30


class _NotCached(Exception):
    def __init__(self, value: dict[str, Any]) -> None:
        self.value = value


def retrieved_speeches(services: Any, questions: Sequence[Question], collection: str | None,
                       limit: int) -> list[tuple[Any, int, Question]]:
    """(speech, span start, first question that retrieved it), deduplicated, at most ``limit``."""
    import json

    from ingest.schema import Speech
    from ingest.state import Manifest

    assistant = services.assistant("extractive", collection)  # retrieval only: no generation
    manifest = Manifest(services.settings.state_path(collection or services.settings.collection))
    out: list[tuple[Any, int, Question]] = []
    seen: set[str] = set()
    try:
        for q in questions:
            _, _, hits, refusal = assistant.prepare(q.question, filters=q.search_filters())
            for hit in hits if refusal is None else []:
                sid = hit.record.speech_id
                if sid in seen:
                    continue
                seen.add(sid)
                row = manifest.db.execute("SELECT body, span_start FROM speeches WHERE "
                                          "speech_id=?", (sid,)).fetchone()
                if row is None:
                    continue
                out.append((Speech(**json.loads(row[0])), int(row[1] or 0), q))
                if len(out) >= limit:
                    return out
    finally:
        manifest.close()
    return out


def _extractor(spec: str, settings: Any, embedder: Any, cache: Any) -> Any:
    """The enrichment extractor for ``spec``; LLM ones share ``cache`` when it is given."""
    from ingest.enrich import LLMExtractor, make_extractor

    if spec.strip().partition(":")[0] in ("groq", "openai") and cache is not None:
        from ingest.llm import LLMClient, parse_spec

        return LLMExtractor(LLMClient(parse_spec(spec, settings), settings, cache=cache))
    return make_extractor(spec, settings, embedder)


def render_extraction(output: dict[str, Any]) -> str:
    """An extraction as the judge and the reports show it."""
    lines = [f"Stance: {output['stance']}", f"Topics: {', '.join(output['topics']) or '-'}",
             "Claims:" if output["claims"] else "Claims: none"]
    for i, c in enumerate(output["claims"], 1):
        lines.append(f'{i}. "{c["quote"]}"' if c["claim"] == c["quote"] else
                     f'{i}. {c["claim"]}\n   Quote: "{c["quote"]}"')
    dropped = output["quotes_proposed"] - output["quotes_verified"]
    if dropped:
        lines.append(f"({dropped} proposed quote(s) not found in the speech were dropped.)")
    return "\n".join(lines)


def _output(result: Any, counts: Counter[str], latency: float,
            tokens: tuple[int | None, int | None]) -> dict[str, Any]:
    out = {"status": result.status, "error": result.failure, "stance": result.stance,
           "topics": list(result.topics),
           "claims": [{"claim": c.claim, "quote": c.quote, "match": c.match}
                      for c in result.claims],
           "quotes_proposed": counts["verified"] + counts["dropped"],
           "quotes_verified": counts["verified"],
           "quotes_exact": counts["verified"] - counts["repaired"],
           "latency_s": round(latency, 4), "prompt_tokens": tokens[0],
           "completion_tokens": tokens[1]}
    out["text"] = render_extraction(out) if result.status == "ok" else ""
    out["words"] = len(out["text"].split())
    return out


def _extract(llm: CachedLLM, extractor: Any, speech: Any, start: int) -> dict[str, Any]:
    """One speech through ``extract_speech`` (the enrichment path), measured; results are
    cached with their measures (the heuristic's too: it is deterministic), failures are not."""
    from ingest.arguments import SpeechArguments
    from ingest.enrich import extract_speech

    stats = getattr(getattr(extractor, "client", None), "stats", None)

    def compute() -> dict[str, Any]:
        before = stats.to_dict() if stats else {}
        started = time.perf_counter()
        try:
            result, counts = extract_speech(extractor, speech, start)
        except (QuotaExhausted, ProviderError) as exc:  # a stopped quota fails this speech
            result, counts = SpeechArguments(
                speech.speech_id, speech.debate_id, extractor.name, extractor.prompt_version,
                "failed", failure=getattr(exc, "reason", "") or str(exc)), Counter()
        latency = time.perf_counter() - started
        after = stats.to_dict() if stats else {}
        llm.requests += after.get("requests", 0) - before.get("requests", 0)
        tokens = (after["prompt_tokens"] - before["prompt_tokens"],
                  after["completion_tokens"] - before["completion_tokens"]) if stats else (
            None, None)
        out = _output(result, counts, latency, tokens)
        if result.status != "ok":
            raise _NotCached(out)
        return out

    key = cache_key(extractor.name, extractor.prompt_version,
                    [speech.speech_id, speech.content_key()])
    try:
        return llm.cached(key, compute)
    except _NotCached as failed:
        return failed.value


def argument_metrics(outputs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One model's extractions, aggregated (scalars only: they fill a table)."""
    ok = [o for o in outputs if o["status"] == "ok"]
    failed = Counter(o["error"] or "failed" for o in outputs if o["status"] != "ok")
    proposed = sum(o["quotes_proposed"] for o in ok)
    latencies = [o["latency_s"] for o in ok]
    stances = Counter(o["stance"] for o in ok)
    return {
        "speeches": len(outputs), "extracted": len(ok), "failed": sum(failed.values()),
        "failure_reasons": ", ".join(f"{r}: {n}" for r, n in failed.most_common()) or "none",
        "claims_per_speech": round(sum(len(o["claims"]) for o in ok) / len(ok), 3)
        if ok else None,
        "quotes_proposed": proposed,
        "quotes_verified_share": round(sum(o["quotes_verified"] for o in ok) / proposed, 4)
        if proposed else None,
        "quotes_verbatim_share": round(sum(o["quotes_exact"] for o in ok) / proposed, 4)
        if proposed else None,
        "stances": ", ".join(f"{s} {n}" for s, n in stances.most_common()) or "none",
        "mean_words": round(sum(o["words"] for o in ok) / len(ok), 1) if ok else 0.0,
        "latency_mean_s": round(sum(latencies) / len(latencies), 3) if latencies else None,
        "latency_p50_s": _percentile(latencies, 50), "latency_p95_s": _percentile(latencies, 95),
        "prompt_tokens": sum(o["prompt_tokens"] or 0 for o in outputs),
        "completion_tokens": sum(o["completion_tokens"] or 0 for o in outputs),
    }


def extraction_agreement(pairs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Stance agreement (share and Cohen's kappa) and mean topic Jaccard between A and B, on
    the speeches both extracted."""
    both = [p for p in pairs if p["a"]["status"] == "ok" and p["b"]["status"] == "ok"]
    x = [p["a"]["stance"] for p in both]
    y = [p["b"]["stance"] for p in both]
    overlap = [len(set(p["a"]["topics"]) & set(p["b"]["topics"]))
               / max(1, len(set(p["a"]["topics"]) | set(p["b"]["topics"]))) for p in both]
    return {"speeches": len(both),
            "stance_agreement": round(sum(u == v for u, v in zip(x, y)) / len(both), 4)
            if both else None,
            "stance_kappa": kappa(x, y),
            "topic_jaccard": round(sum(overlap) / len(overlap), 4) if overlap else None,
            "stance_disagreements": [{"speech_id": p["speech_id"], "a": u, "b": v}
                                     for p, u, v in zip(both, x, y) if u != v]}


def run_argument_comparison(services: Any, questions: Sequence[Question], spec_a: str,
                            spec_b: str, judges: Sequence[str], limit: int | None = None,
                            collection: str | None = None, cache_dir: Path | None = None
                            ) -> dict[str, Any]:
    """The whole extraction comparison as one JSON-ready dict (``report.write_reports``)."""
    from ingest.llmcache import LLMCache

    from .compare import _judges, _run_id

    settings = services.settings
    llm = CachedLLM(cache_dir or settings.cache_dir / "eval")
    cache = LLMCache(cache_dir / "llm.sqlite") if cache_dir is not None else None
    extractors = {"a": _extractor(spec_a, settings, services.embedder, cache),
                  "b": _extractor(spec_b, settings, services.embedder, cache)}
    clients, skipped = _judges(judges, settings, cache_dir)
    started = time.perf_counter()
    speeches = retrieved_speeches(services, questions, collection, limit or DEFAULT_SPEECHES)
    pairs: list[dict[str, Any]] = []
    for speech, start, q in speeches:
        pair: dict[str, Any] = {
            "qid": speech.speech_id, "speech_id": speech.speech_id, "kind": q.kind,
            "question": q.question, "question_id": q.qid, "debate": speech.debate_title,
            "speaker": speech.speaker, "party": speech.party, "date": speech.date,
            "language": speech.language, "text": speech.text, "judgements": {}}
        for side, extractor in extractors.items():
            pair[side] = _extract(llm, extractor, speech, start)
        if pair["a"]["status"] == "ok" and pair["b"]["status"] == "ok":
            speaker = speech.speaker + (f" ({speech.party})" if speech.party else "")

            def prompt(first: str, second: str, s: Any = speech, who: str = speaker) -> Any:
                return extraction_judge_messages(s.debate_title, who, s.text, first, second)
            for spec, client in clients.items():
                pair["judgements"][spec] = judge_pair(
                    llm, client, spec, "", [], pair["a"]["text"], pair["b"]["text"],
                    prompt=prompt, prompt_version=EXTRACTION_JUDGE_PROMPT_VERSION).to_dict()
        pairs.append(pair)
    report: dict[str, Any] = {
        "kind": "compare", "task": "arguments",
        "created": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "a": spec_a, "b": spec_b, "judges": list(judges),
        "judge_prompt": EXTRACTION_JUDGE_PROMPT_VERSION,
        "extraction_prompts": {side: e.prompt_version for side, e in extractors.items()},
        "questions": len({p["question_id"] for p in pairs}), "speeches": len(pairs),
        "judge_skipped": skipped, "not_judged": sum(1 for p in pairs if not p["judgements"]),
        "requests": llm.requests, "cache_hits": llm.cache_hits,
        "seconds": round(time.perf_counter() - started, 2),
        "metrics": {side: argument_metrics([p[side] for p in pairs]) for side in ("a", "b")},
        "extraction_agreement": extraction_agreement(pairs),
        **judged_summary(pairs, judges, clients, [spec_a, spec_b]),
        "pairs": pairs,
    }
    report["run_id"] = _run_id(report)
    return report
