"""The dense side of retrieval at corpus scale: exact where it is cheap, HNSW where not.

A query needs the cosine of its vector to the rows it may rank.  Exactly, that is one mat-vec
over the mirror's float32 matrix, memory-bound on these cores: 7 ms at 40k chunks, 48 ms at
303,756 (the size of the full EU Debates corpus; ``hemicycle bench query``).  So:

- a filter that keeps at most ``exact_rows`` rows (``HEMICYCLE_DENSE_EXACT_ROWS``) of a
  larger collection is scored exactly on those rows only (a group + year filter keeps ~5 %);
- otherwise every row is scored exactly, unless ``HEMICYCLE_DENSE_ANN`` is set: then, past
  ``exact_rows`` rows, the dense candidates come from the collection's own HNSW index in
  Chroma (the store of record keeps it up to date at ingest), over-fetched by the inverse of
  the share of rows a filter keeps, then filtered by the mask; only those candidates and the
  caller's BM25 candidates get an exact cosine.  Chroma's own ``where`` is not used: it
  costs ~1.3 s at that size.  If the HNSW candidates leave fewer than ``depth`` rows after
  the filter, the exact path runs instead.  It is off by default: on the scaled benchmark
  corpus (``hemicycle bench query``) the HNSW candidates held only a quarter of the exact
  top-100, although the hybrid top-10 stayed 94 % the same.

Unscored rows hold ``-inf``, so a caller's top-n over the array sees the scored rows only.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

__all__ = ["ChromaAnn", "DenseScorer"]

_BLOCK = 4096  # rows gathered per mat-vec on the filtered path (stays in cache)
MAX_FETCH = 4000  # the most HNSW candidates asked for (a filter keeping ~5% of the rows)


@functools.cache
def _blas() -> Any:
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


class ChromaAnn:
    """Nearest chunk ids from a Chroma collection's HNSW index (opened on first use)."""

    def __init__(self, open_collection: Callable[[], Any]) -> None:
        self._open = open_collection
        self._collection: Any = None

    def __call__(self, vector: Any, n: int) -> list[str]:
        if self._collection is None:
            self._collection = self._open()
        got = self._collection.query(query_embeddings=[vector.tolist()], n_results=n,
                                     include=[])
        return list(got["ids"][0])


class DenseScorer:
    """Cosines of a query vector to the rows of ``embeddings`` it needs (see the module)."""

    def __init__(self, embeddings: Any, position: dict[str, int],
                 ann: Callable[[Any, int], list[str]] | None = None,
                 exact_rows: int = 40_000) -> None:
        self.embeddings = embeddings
        self.position = position
        self.ann = ann
        self.exact_rows = exact_rows

    def exact(self, mask: Any) -> bool:
        """Whether a query with this row mask is scored exactly on every row it may rank."""
        rows = len(self.embeddings) if mask is None else int(mask.sum())
        return self.ann is None or rows <= self.exact_rows

    def scores(self, vector: Any, mask: Any = None, depth: int = 100) -> Any:
        """Full-length float32 cosines: exact on every allowed row, or on the HNSW
        candidates only (other rows ``-inf``)."""
        import numpy as np

        n = len(self.embeddings)
        if self.exact(mask):
            return self._exact(vector, mask)
        share = 1.0 if mask is None else float(mask.sum()) / n
        fetch = min(n, MAX_FETCH, math.ceil(2 * depth / share))
        rows = np.array([self.position[cid] for cid in self.ann(vector, fetch)  # type: ignore[misc]
                         if cid in self.position], dtype=np.int64)
        if mask is not None:
            rows = rows[mask[rows]]
        if len(rows) < min(depth, n if mask is None else int(mask.sum())):
            return self._exact(vector, mask)
        out = np.full(n, -np.inf, dtype=np.float32)
        out[rows] = self.embeddings[rows] @ vector
        return out

    def fill(self, scores: Any, vector: Any, rows: Any) -> None:
        """Exact cosines for ``rows`` that have none yet (the other side's candidates)."""
        import numpy as np

        rows = np.asarray(rows, dtype=np.int64)
        rows = rows[~np.isfinite(scores[rows])]
        if len(rows):
            scores[rows] = self.embeddings[rows] @ vector

    def _exact(self, vector: Any, mask: Any) -> Any:
        import numpy as np

        # One BLAS thread: the mat-vec is memory-bound, and OpenBLAS's worker threads keep
        # spinning after a call, starving the next query's encoding (torch's threads) on a
        # small machine: hybrid p95 at 65k chunks went from ~110 ms to ~25 ms with this limit.
        with _blas().limit(limits=1, user_api="blas"):
            if mask is None or len(self.embeddings) <= self.exact_rows or \
                    int(mask.sum()) > self.exact_rows:
                return self.embeddings @ vector  # the caller masks
            out = np.full(len(self.embeddings), -np.inf, dtype=np.float32)
            rows = np.flatnonzero(mask)
            for i in range(0, len(rows), _BLOCK):  # gathered a block at a time, in cache
                block = rows[i: i + _BLOCK]
                out[block] = self.embeddings[block] @ vector
            return out
