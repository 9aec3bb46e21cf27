"""``hemicycle bench explore``: how long the corpus map takes on this machine.

On the current collection: t-SNE (openTSNE, the Explore page's defaults) on samples of
each size, built cold into a fresh cache folder; the same map reopened from the cache; PCA
on the largest sample for comparison; and the time to place a query on the map (query
embedding + openTSNE ``transform``), the first one including reading the t-SNE model from
the cache (embedding the query is reported apart).  A size larger than the collection is reached by repeating its chunks (new ids,
same vectors: t-SNE's cost depends on the number of points, and ``report`` says how many
are real).  The map is built on one thread, so its CPU seconds are reported too: on a shared
machine they are the figure that does not depend on the other processes.
"""

from __future__ import annotations

import dataclasses
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
    embedder.encode_query("warm up")
    report: dict[str, Any] = {"chunks_in_collection": len(index)}
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp)
        for size in sizes:
            spec = MapSpec(sample=size)
            corpus = _repeated(index, size)
            cpu = time.process_time()
            cold = build_map(corpus, spec, cache)
            report[f"tsne_{size}_points"] = len(cold)
            report[f"tsne_{size}_real_points"] = min(len(cold), len(index))
            report[f"tsne_{size}_cold_s"] = round(cold.seconds, 2)
            report[f"tsne_{size}_cold_cpu_s"] = round(time.process_time() - cpu, 2)
            started = time.perf_counter()
            warm = build_map(corpus, spec, cache)
            report[f"tsne_{size}_cached_s"] = round(time.perf_counter() - started, 4)
            retriever = Retriever(corpus, embedder)
            runs = [place_query(warm, corpus, retriever, q, k=10) for q in QUERIES[:queries]]
            placed = [run.seconds for run in runs]
            report[f"query_place_{size}_first_s"] = round(placed[0], 3)
            report[f"query_place_{size}_median_s"] = round(statistics.median(placed[1:] or
                                                                             placed), 3)
            report[f"query_embed_{size}_median_s"] = round(statistics.median(
                run.embed_seconds for run in runs), 3)
        pca = build_map(_repeated(index, max(sizes)), MapSpec(method="pca", sample=max(sizes)),
                        cache)
        report[f"pca_{max(sizes)}_cold_s"] = round(pca.seconds, 3)
    return report


def _repeated(index: CorpusIndex, size: int) -> CorpusIndex:
    """The index itself, or its chunks repeated (new ids, same vectors) to ``size`` rows."""
    import numpy as np

    if len(index) >= size:
        return index
    copies = -(-size // len(index))
    records = [dataclasses.replace(r, chunk_id=f"{r.chunk_id}~{n}",
                                   speech_id=f"{r.speech_id}~{n}") if n else r
               for n in range(copies) for r in index.records][:size]
    vectors = np.tile(index.embeddings, (copies, 1))[:size]
    return CorpusIndex(records, vectors, None, f"{index.version}x{copies}", None, index.speeches)
