"""The retrieval-quality suite: a gold question set against dense, BM25 and hybrid."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError, model_validator

from ingest.errors import InputError
from rag.filters import SearchFilters
from rag.retriever import MODES, Retriever

from .metrics import per_query
from .significance import paired_test

__all__ = ["GoldQuestion", "load_gold", "run_retrieval_eval", "runs", "score_runs"]


class GoldFilters(BaseModel):
    party: list[str] = Field(default_factory=list)
    speaker: list[str] = Field(default_factory=list)
    date_from: str | None = None
    date_to: str | None = None
    debate: list[str] = Field(default_factory=list)


REAL_KINDS = ("factual", "speaker-position", "party-comparison", "debate-summary",
              "unanswerable")


class GoldQuestion(BaseModel):
    """One line of a gold set: ``data/eval/retrieval-gold.jsonl`` (``relevant`` grades) or
    ``data/eval/real-questions.jsonl`` (``gold_ids``, the speeches that answer it, optional
    ``relevant`` grades and an ``answer_hint``; ``gold_ids == []`` and kind ``unanswerable``
    mean the corpus does not answer it)."""

    qid: str
    question: str = Field(min_length=5)
    kind: str = "mixed"
    gold_ids: list[str] = Field(default_factory=list)
    relevant: dict[str, int] = Field(default_factory=dict)  # speech_id -> grade 1|2
    answer_hint: str | None = None
    filters: GoldFilters = Field(default_factory=GoldFilters)

    @model_validator(mode="after")
    def _consistent(self) -> GoldQuestion:
        if any(grade not in (1, 2) for grade in self.relevant.values()):
            raise ValueError(f"{self.qid}: relevant grades are 1 or 2")
        if self.kind == "unanswerable" and (self.gold_ids or self.relevant):
            raise ValueError(f"{self.qid}: an unanswerable question has no gold speeches")
        if self.kind != "unanswerable" and not (self.gold_ids or self.relevant):
            raise ValueError(f"{self.qid}: no gold_ids or relevant speeches")
        return self

    @property
    def answerable(self) -> bool:
        return bool(self.gold_ids or self.relevant)

    @property
    def qrels(self) -> dict[str, int]:
        """TREC grades: the gold speeches at 2, the other relevant ones at their grade."""
        return {**self.relevant, **{sid: 2 for sid in self.gold_ids}}

    @property
    def gold(self) -> dict[str, int]:
        """The speeches recall counts: ``gold_ids`` when given, else every relevant one."""
        return {sid: 2 for sid in self.gold_ids} or self.qrels

    def search_filters(self) -> SearchFilters:
        f = self.filters
        return SearchFilters.build(f.party, f.speaker, f.date_from, f.date_to, f.debate)


def load_gold(path: Path, model: type[Any] = GoldQuestion) -> list[Any]:
    """Validated lines of a JSONL question file (``model``: the pydantic model of a line)."""
    questions = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputError(f"{path}: {exc.strerror}") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            questions.append(model.model_validate_json(line))
        except ValidationError as exc:
            raise InputError(f"{path}:{number}: {exc.errors()[0]['msg']}") from None
    return questions


def runs(retriever: Retriever, questions: list[GoldQuestion], k: int = 10,
         modes: tuple[str, ...] = MODES) -> dict[str, dict[str, dict[str, float]]]:
    """``run[mode][qid][speech_id]`` (one hit per speech; rank decides: 1 / rank)."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for mode in modes:
        out[mode] = {}
        for q in questions:
            hits = retriever.search(q.question, k=k, mode=mode, filters=q.search_filters())
            out[mode][q.qid] = {h.record.speech_id: 1.0 / h.rank for h in hits}
    return out


def score_runs(questions: list[GoldQuestion], run_by_mode: dict[str, Any],
               reference: str = "hybrid") -> dict[str, Any]:
    """Metrics per mode, overall and per kind, and paired tests of ``reference`` against
    every other mode (answerable questions only)."""
    answerable = [q for q in questions if q.answerable]
    qrels = {q.qid: q.qrels for q in answerable}
    gold = {q.qid: q.gold for q in answerable}
    results: dict[str, Any] = {"questions": len(answerable),
                               "unanswerable": len(questions) - len(answerable), "modes": {}}
    tables = {}
    for mode, run in run_by_mode.items():
        tables[mode] = table = per_query(qrels, run, gold=gold)
        by_kind = {kind: _mean([table[q.qid] for q in answerable if q.kind == kind])
                   for kind in sorted({q.kind for q in answerable})}
        results["modes"][mode] = {"overall": _mean(list(table.values())), "by_kind": by_kind}
    if reference in tables:
        results["paired_tests"] = {
            f"{reference} vs {mode}": {
                metric: paired_test({q: r[metric] for q, r in tables[reference].items()},
                                    {q: r[metric] for q, r in table.items()})
                for metric in ("recall@5", "mrr@10", "hit@1")}
            for mode, table in tables.items() if mode != reference}
    return results


def run_retrieval_eval(retriever: Retriever, questions: list[GoldQuestion], k: int = 10,
                       modes: tuple[str, ...] = MODES) -> dict[str, Any]:
    """Metrics per retriever mode, overall and per question kind, with paired tests."""
    return score_runs(questions, runs(retriever, questions, k, modes))


def _mean(rows: list[dict[str, float]]) -> dict[str, float]:
    if not rows:
        return {}
    return {name: round(sum(r[name] for r in rows) / len(rows), 4) for name in sorted(rows[0])}


def format_table(results: dict[str, Any]) -> str:
    metrics = ["recall@1", "recall@5", "recall@10", "hit@1", "mrr@10", "ndcg@10"]
    lines = [f"{'retriever':10s} " + " ".join(f"{m:>9s}" for m in metrics)]
    for mode, data in results["modes"].items():
        lines.append(f"{mode:10s} " + " ".join(f"{data['overall'][m]:9.3f}" for m in metrics))
    kinds = sorted({kind for data in results["modes"].values() for kind in data["by_kind"]})
    if len(kinds) > 1:
        lines.append("mrr@10 by kind: " + "; ".join(
            f"{kind} " + " ".join(f"{mode}={data['by_kind'][kind]['mrr@10']:.3f}"
                                  for mode, data in results["modes"].items())
            for kind in kinds))
    for pair, tests in results.get("paired_tests", {}).items():
        lines.append(f"{pair}: " + ", ".join(
            f"{metric} {t['mean_diff']:+.3f} (p={t['p_value']:.3f})"
            for metric, t in tests.items()))
    return "\n".join(lines)


def save_report(results: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2), encoding="utf-8")


def calibrate_refusal(retriever: Retriever, in_domain: list[str], off_topic: list[str],
                      k: int = 8) -> dict[str, Any]:
    """Best dense similarity of in-domain vs off-topic questions, and the threshold that
    separates them best (the refusal threshold is set from this, see the README)."""
    def best(question: str) -> float:
        hits = retriever.search(question, k=k, mode="hybrid")
        return max((h.dense_score for h in hits), default=0.0)

    inside = sorted(best(q) for q in in_domain)
    outside = sorted(best(q) for q in off_topic)
    candidates = sorted(set(round(x, 2) for x in inside + outside))
    scored = []
    for t in candidates:
        answered = sum(1 for x in inside if x >= t) / max(len(inside), 1)
        refused = sum(1 for x in outside if x < t) / max(len(outside), 1)
        scored.append((answered + refused, t, answered, refused))
    total, threshold, answered, refused = max(scored) if scored else (0, 0.3, 0, 0)
    return {"in_domain_min": round(inside[0], 3) if inside else None,
            "in_domain_p10": round(inside[len(inside) // 10], 3) if inside else None,
            "off_topic_max": round(outside[-1], 3) if outside else None,
            "best_threshold": threshold, "answered_at_best": round(answered, 3),
            "refused_at_best": round(refused, 3)}
