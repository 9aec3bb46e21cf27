"""The refusal suite: how often the assistant refuses questions the corpus cannot answer,
and how rarely it refuses those it can (refusal decided before generation: ``rag.refusal``
checks and the similarity threshold, as ``Assistant.prepare`` does)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ingest.errors import InputError
from rag.assistant import Assistant

from .retrieval import load_gold

__all__ = ["load_refusal_questions", "run_refusal_eval"]


def load_refusal_questions(gold: Path, off_topic: Path | None = None
                           ) -> tuple[list[str], list[str]]:
    """(answerable, unanswerable) questions: the gold set's own split, plus an off-topic file
    (``{"question": ...}`` lines) counted as unanswerable."""
    questions = load_gold(gold)
    answerable = [q.question for q in questions if q.answerable]
    unanswerable = [q.question for q in questions if not q.answerable]
    if off_topic is not None:
        try:
            lines = off_topic.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise InputError(f"{off_topic}: {exc.strerror}") from None
        unanswerable += [json.loads(line)["question"] for line in lines if line.strip()]
    return answerable, unanswerable


def run_refusal_eval(assistant: Assistant, answerable: list[str],
                     unanswerable: list[str]) -> dict[str, Any]:
    """Refusal rates, the check that refused each question, and the misses."""
    def reason(question: str) -> str | None:
        return assistant.prepare(question)[3]

    refused_bad = {q: reason(q) for q in unanswerable}
    refused_good = {q: reason(q) for q in answerable}
    by_check: dict[str, int] = {}
    for why in refused_bad.values():
        if why:
            name = why.split(":")[0] if ":" in why else "similarity"
            by_check[name] = by_check.get(name, 0) + 1
    n_bad, n_good = max(len(unanswerable), 1), max(len(answerable), 1)
    return {
        "unanswerable": len(unanswerable), "answerable": len(answerable),
        "unanswerable_refused": round(sum(1 for r in refused_bad.values() if r) / n_bad, 4),
        "answerable_refused": round(sum(1 for r in refused_good.values() if r) / n_good, 4),
        "refused_by_check": by_check,
        "missed": [q for q, r in refused_bad.items() if not r],
        "wrongly_refused": {q: r for q, r in refused_good.items() if r},
    }
