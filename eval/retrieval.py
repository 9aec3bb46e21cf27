"""The retrieval-quality suite: a gold question set against dense, BM25 and hybrid."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from ingest.errors import InputError
from rag.filters import SearchFilters
from rag.retriever import MODES, Retriever

from .metrics import evaluate

__all__ = ["GoldQuestion", "load_gold", "run_retrieval_eval"]


class GoldFilters(BaseModel):
    party: list[str] = Field(default_factory=list)
    speaker: list[str] = Field(default_factory=list)
    date_from: str | None = None
    date_to: str | None = None
    debate: list[str] = Field(default_factory=list)


class GoldQuestion(BaseModel):
    """One line of ``data/eval/retrieval-gold.jsonl``."""

    qid: str
    question: str
    relevant: dict[str, int]  # speech_id -> grade (2 answers it, 1 partly)
    filters: GoldFilters = Field(default_factory=GoldFilters)
    kind: str = "mixed"
    answer_hint: str = ""  # key facts a good answer quotes, ";"-separated (eval/answers.py)

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


def run_retrieval_eval(retriever: Retriever, questions: list[GoldQuestion], k: int = 10,
                       modes: tuple[str, ...] = MODES) -> dict[str, Any]:
    """Metrics per retriever mode, overall and per question kind."""
    qrels = {q.qid: q.relevant for q in questions}
    results: dict[str, Any] = {"questions": len(questions), "modes": {}}
    for mode in modes:
        run: dict[str, dict[str, float]] = {}
        for q in questions:
            hits = retriever.search(q.question, k=k, mode=mode, filters=q.search_filters())
            # one hit per speech; rank decides, so score by reciprocal rank
            run[q.qid] = {h.record.speech_id: 1.0 / h.rank for h in hits}
        by_kind: dict[str, Any] = {}
        for kind in sorted({q.kind for q in questions}):
            subset = {q.qid: q.relevant for q in questions if q.kind == kind}
            by_kind[kind] = evaluate(subset, run)
        results["modes"][mode] = {"overall": evaluate(qrels, run), "by_kind": by_kind}
    return results


def format_table(results: dict[str, Any]) -> str:
    metrics = ["recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@5", "ndcg@10"]
    lines = [f"{'retriever':10s} " + " ".join(f"{m:>9s}" for m in metrics)]
    for mode, data in results["modes"].items():
        lines.append(f"{mode:10s} " + " ".join(f"{data['overall'][m]:9.3f}" for m in metrics))
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
