"""One score scale for every retriever, as ``hemicycle search`` prints it.

The raw ranking scores are not comparable: a cosine similarity (dense), an unbounded BM25
score, a reciprocal-rank-fusion sum of about 0.03 (hybrid).  Each hit is therefore shown with

* ``relevance``: the retriever's own score divided by the best score of the query (0–1,
  the top hit is 1.00), the same definition for dense, BM25 and hybrid;
* ``cosine``: the cosine similarity to the query (absolute, comparable across queries);
* ``bm25_relative``: the BM25 score divided by the best BM25 score among the hits (0–1;
  0 when no query word occurs).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["scaled"]


def scaled(hits: Sequence[Any]) -> list[dict[str, float]]:
    """``relevance``, ``cosine`` and ``bm25_relative`` of each hit, in 0–1."""
    best = max((h.score for h in hits), default=0.0)
    best_bm25 = max((h.bm25_score for h in hits), default=0.0)
    return [{"relevance": round(max(h.score, 0.0) / best, 4) if best > 0 else 0.0,
             "cosine": round(h.dense_score, 4),
             "bm25_relative": round(h.bm25_score / best_bm25, 4) if best_bm25 > 0 else 0.0}
            for h in hits]
