"""K-fold cross-validation of the hybrid fusion weights (``rag.fusion.Fusion``).

For each fold the grid point with the best mean MRR@10 on the other folds is chosen and
scored on the held-out fold only; the held-out rows of all folds are then averaged.  The
folds are a deterministic split of the sorted question ids (every k-th question), so a
rerun prints the same figures.
"""

from __future__ import annotations

import itertools
from dataclasses import asdict
from typing import Any

from rag.fusion import DEFAULT_FUSION, Fusion
from rag.retriever import Retriever

from .metrics import per_query
from .retrieval import GoldQuestion

__all__ = ["GRID", "cross_validate"]

GRID: tuple[Fusion, ...] = tuple(
    Fusion(bm25_weight=w, speaker_boost=s, party_boost=p, procedural_factor=f)
    for w, s, p, f in itertools.product((0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0), (0.0, 0.5, 1.0),
                                        (0.0, 0.3, 0.6, 1.0), (1.0, 0.5, 0.2)))


def _objective(rows: list[dict[str, float]]) -> tuple[float, float]:
    n = max(len(rows), 1)
    return (sum(r["mrr@10"] for r in rows) / n, sum(r["recall@5"] for r in rows) / n)


def cross_validate(retriever: Retriever, questions: list[GoldQuestion], folds: int = 5,
                   k: int = 10, grid: tuple[Fusion, ...] = GRID) -> dict[str, Any]:
    """Held-out metrics of the fusion chosen on the other folds, and the choice per fold."""
    answerable = sorted((q for q in questions if q.answerable), key=lambda q: q.qid)
    qrels = {q.qid: q.qrels for q in answerable}
    gold = {q.qid: q.gold for q in answerable}
    cached = {q.qid: retriever.scores(q.question, "hybrid", q.search_filters())
              for q in answerable}
    tables = []
    for fusion in grid:
        run = {}
        for q in answerable:
            dense, lexical, allowed = cached[q.qid]
            hits = retriever.rank(q.question, "hybrid", dense, lexical, allowed, k,
                                  fusion=fusion)
            run[q.qid] = {h.record.speech_id: 1.0 / h.rank for h in hits}
        tables.append(per_query(qrels, run, gold=gold))
    held_out: list[dict[str, float]] = []
    chosen = []
    for fold in range(folds):
        test = {q.qid for i, q in enumerate(answerable) if i % folds == fold}
        train = [q.qid for q in answerable if q.qid not in test]
        best = max(range(len(grid)),
                   key=lambda g: _objective([tables[g][qid] for qid in train]))
        chosen.append(asdict(grid[best]))
        held_out.extend(tables[best][qid] for qid in sorted(test))
    overall = {name: round(sum(r[name] for r in held_out) / max(len(held_out), 1), 4)
               for name in sorted(held_out[0])} if held_out else {}
    default = grid.index(DEFAULT_FUSION) if DEFAULT_FUSION in grid else None
    in_sample = (None if default is None else
                 {name: round(sum(r[name] for r in tables[default].values())
                              / max(len(answerable), 1), 4)
                  for name in sorted(next(iter(tables[default].values())))})
    best_all = max(range(len(grid)), key=lambda g: _objective(list(tables[g].values())))
    return {"folds": folds, "questions": len(answerable), "grid_size": len(grid),
            "held_out": overall, "chosen_per_fold": chosen,
            "default_fusion": asdict(DEFAULT_FUSION), "default_in_sample": in_sample,
            "best_on_all": asdict(grid[best_all])}
