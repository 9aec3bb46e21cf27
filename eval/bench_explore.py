"""``hemicycle bench explore``: how long the corpus map takes on this machine.

On the current collection: t-SNE (openTSNE, the Explore page's defaults) on samples of
each size, built cold into a fresh cache folder; the same map reopened from the cache; PCA
on the largest sample for comparison; and the time to place a query on the map (query
embedding + openTSNE ``transform``), the first one including reading the t-SNE model from
the cache.  A size larger than the collection is reported with the points actually drawn.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ingest.embedder import Embedder
from ingest.errors import InputError
from ingest.settings import Settings
from ingest.store import open_client
from rag.explore import MapSpec, build_map, place_query
from rag.index import CorpusIndex
from rag.retriever import Retriever

from .bench_query import QUERIES

__all__ = ["run_explore_benchmark"]


def run_explore_benchmark(settings: Settings, sizes: Sequence[int] = (2000, 5000),
                          collection: str | None = None, queries: int = 8) -> dict[str, Any]:
    index = CorpusIndex.load(settings, open_client(settings), collection)
    if len(index) < 2:
        raise InputError("the collection is empty: ingest something before benchmarking")
    embedder = Embedder(settings.embedding_model, settings.embedding_device)
    retriever = Retriever(index, embedder)
    embedder.encode_query("warm up")
    report: dict[str, Any] = {"chunks_in_collection": len(index)}
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp)
        for size in sizes:
            spec = MapSpec(sample=size)
            cold = build_map(index, spec, cache)
            report[f"tsne_{size}_points"] = len(cold)
            report[f"tsne_{size}_cold_s"] = round(cold.seconds, 2)
            started = time.perf_counter()
            warm = build_map(index, spec, cache)
            report[f"tsne_{size}_cached_s"] = round(time.perf_counter() - started, 4)
            placed = [place_query(warm, index, retriever, q, k=10).seconds
                      for q in QUERIES[:queries]]
            report[f"query_place_{size}_first_s"] = round(placed[0], 3)
            report[f"query_place_{size}_median_s"] = round(statistics.median(placed[1:] or
                                                                             placed), 3)
        pca = build_map(index, MapSpec(method="pca", sample=max(sizes)), cache)
        report[f"pca_{max(sizes)}_cold_s"] = round(pca.seconds, 3)
    return report
