"""Paired significance of a retriever against another on the same questions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

__all__ = ["paired_test"]


def paired_test(a: Mapping[str, float], b: Mapping[str, float], n_resamples: int = 10_000,
                seed: int = 0) -> dict[str, float]:
    """Mean of ``a - b`` over shared questions and its two-sided p-value by a paired
    randomisation (sign-flip) test, seeded so reruns print the same figures."""
    import numpy as np
    from scipy.stats import permutation_test

    qids: Sequence[str] = sorted(set(a) & set(b))
    x = np.array([a[q] for q in qids], dtype=float)
    y = np.array([b[q] for q in qids], dtype=float)
    if len(qids) == 0 or np.allclose(x, y):
        return {"mean_diff": 0.0, "p_value": 1.0, "n": len(qids)}
    result = permutation_test((x, y), lambda u, v: np.mean(u - v), permutation_type="samples",
                              n_resamples=n_resamples, random_state=seed,
                              alternative="two-sided")
    return {"mean_diff": round(float(np.mean(x - y)), 4),
            "p_value": round(float(result.pvalue), 4), "n": len(qids)}
