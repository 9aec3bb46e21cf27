"""Retrieval metrics in the TREC convention: ``qrels[qid][doc] = grade``,
``run[qid][doc] = score`` (higher is better).  Documents here are speeches."""

from __future__ import annotations

import math
from collections.abc import Mapping

__all__ = ["recall_at_k", "mrr", "ndcg_at_k", "evaluate", "per_query"]

Qrels = Mapping[str, Mapping[str, int]]
Run = Mapping[str, Mapping[str, float]]


def _ranked(scores: Mapping[str, float]) -> list[str]:
    return [doc for doc, _ in sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))]


def recall_at_k(relevant: Mapping[str, int], scores: Mapping[str, float], k: int) -> float:
    wanted = {doc for doc, grade in relevant.items() if grade > 0}
    if not wanted:
        return 0.0
    return len(wanted & set(_ranked(scores)[:k])) / len(wanted)


def mrr(relevant: Mapping[str, int], scores: Mapping[str, float], k: int = 10) -> float:
    for position, doc in enumerate(_ranked(scores)[:k], start=1):
        if relevant.get(doc, 0) > 0:
            return 1.0 / position
    return 0.0


def ndcg_at_k(relevant: Mapping[str, int], scores: Mapping[str, float], k: int) -> float:
    gains = [relevant.get(doc, 0) for doc in _ranked(scores)[:k]]
    dcg = sum((2 ** g - 1) / math.log2(i + 2) for i, g in enumerate(gains))
    ideal = sorted((g for g in relevant.values() if g > 0), reverse=True)[:k]
    idcg = sum((2 ** g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def per_query(qrels: Qrels, run: Run, ks: tuple[int, ...] = (1, 5, 10),
              gold: Mapping[str, Mapping[str, int]] | None = None
              ) -> dict[str, dict[str, float]]:
    """Every metric for every question in ``qrels`` (a missing run scores 0).

    Recall counts the speeches of ``gold[qid]`` when given (the speeches that answer the
    question), else every relevant one; MRR and hit@1 credit any relevant speech; nDCG uses
    the grades.
    """
    table: dict[str, dict[str, float]] = {}
    for qid, relevant in qrels.items():
        scores = run.get(qid, {})
        wanted = (gold or {}).get(qid) or relevant
        row = {f"recall@{k}": recall_at_k(wanted, scores, k) for k in ks}
        row.update({f"ndcg@{k}": ndcg_at_k(relevant, scores, k) for k in ks})
        row["mrr@10"] = mrr(relevant, scores, 10)
        row["hit@1"] = 1.0 if mrr(relevant, scores, 1) else 0.0
        table[qid] = row
    return table


def evaluate(qrels: Qrels, run: Run, ks: tuple[int, ...] = (1, 5, 10),
             gold: Mapping[str, Mapping[str, int]] | None = None) -> dict[str, float]:
    """Mean of each metric over the questions in ``qrels`` (see ``per_query``)."""
    table = per_query(qrels, run, ks, gold)
    n = max(len(table), 1)
    names = sorted({name for row in table.values() for name in row})
    return {name: round(sum(row[name] for row in table.values()) / n, 4) for name in names}
