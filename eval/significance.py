"""Paired significance between retrievers, and bootstrap intervals for rates.

Retrievers are compared on the same answerable questions with a two-sided paired randomization
(sign-flip) test of the mean per-question difference (``scipy.stats.permutation_test``, the test
ranx and TREC practice use), 10,000 resamples and a fixed seed, so the p-values are
reproducible.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations
from typing import Any

__all__ = ["paired_randomization", "paired_test", "paired_tests", "bootstrap_ci", "SEED"]

SEED = 20240611
_METRICS = ("recall@5", "mrr@10", "ndcg@10")


def paired_randomization(x: Sequence[float], y: Sequence[float], resamples: int = 10_000,
                         seed: int = SEED) -> float:
    """Two-sided p-value that the mean of ``x - y`` is zero (paired)."""
    import numpy as np
    from scipy.stats import permutation_test

    a, b = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(a) == 0 or np.allclose(a, b):
        return 1.0
    result = permutation_test((a, b), lambda u, v, axis: np.mean(u - v, axis=axis),
                              permutation_type="samples", n_resamples=resamples,
                              alternative="two-sided", vectorized=True,
                              random_state=np.random.default_rng(seed))
    return float(result.pvalue)


def paired_tests(modes: dict[str, Any], metrics: Sequence[str] = _METRICS,
                 alpha: float = 0.05) -> list[dict[str, Any]]:
    """Every pair of modes on every metric: mean difference, p-value, significant at alpha."""
    rows = []
    for a, b in combinations(modes, 2):
        qa, qb = modes[a]["per_question"], modes[b]["per_question"]
        qids = sorted(q for q in set(qa) & set(qb) if "ndcg@10" in qa[q])
        for metric in metrics:
            x = [qa[q][metric] for q in qids]
            y = [qb[q][metric] for q in qids]
            p = paired_randomization(x, y)
            diff = sum(u - v for u, v in zip(x, y)) / max(len(qids), 1)
            rows.append({"a": a, "b": b, "metric": metric, "mean_diff": round(diff, 4),
                         "p_value": round(p, 4), "significant": p < alpha,
                         "questions": len(qids)})
    return rows


def bootstrap_ci(values: Sequence[float], resamples: int = 2000, seed: int = SEED,
                 level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``values`` (``scipy.stats.bootstrap``)."""
    import numpy as np
    from scipy.stats import bootstrap

    data = np.asarray(values, dtype=float)
    if len(data) == 0:
        return (float("nan"), float("nan"))
    if np.all(data == data[0]):
        return (float(data[0]), float(data[0]))
    result = bootstrap((data,), np.mean, n_resamples=resamples, method="percentile",
                       confidence_level=level, random_state=np.random.default_rng(seed))
    interval = result.confidence_interval
    return (round(float(interval.low), 4), round(float(interval.high), 4))


def paired_test(a: dict[str, float], b: dict[str, float], n_resamples: int = 10_000,
                seed: int = SEED) -> dict[str, float]:
    """Mean of ``a - b`` over the questions both score, and its two-sided p-value
    (``paired_randomization``)."""
    qids = sorted(set(a) & set(b))
    x, y = [a[q] for q in qids], [b[q] for q in qids]
    diff = sum(u - v for u, v in zip(x, y)) / max(len(qids), 1)
    return {"mean_diff": round(diff, 4),
            "p_value": round(paired_randomization(x, y, n_resamples, seed), 4), "n": len(qids)}
