"""``hemicycle bench query``: retrieval latency, with and without filters, at two sizes.

Sizes: the current collection (the sample corpus after ``make run``), and a collection of
at least ``--scale`` chunks built from the real corpus in ../shared/corpora: its first
``--base`` records are ingested for real, then repeated with new ids until the target is
reached.  Repeated chunks have the same text, hence nearly the same vectors: the copies
reuse the vectors computed for the originals, each moved by seeded noise (cosine ~0.8 to the
original, as a paraphrase's; ``ReplayEmbedder``'s jitter) so that the HNSW index holds
distinct points; everything else (chunking, markdown, Chroma writes, BM25) runs for real.

Each query is timed end to end: query embedding + filter mask + dense and BM25 scoring +
fusion + per-speech collapse.  Chroma's own HNSW query (with and without a ``where`` on
group + year) is timed on the same queries for comparison.
"""

from __future__ import annotations

import copy
import random
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ingest.embedder import Embedder
from ingest.embedders import make_embedder
from ingest.errors import InputError
from ingest.pipeline import ingest_paths
from ingest.settings import Settings
from ingest.store import open_client, open_collection
from rag.dense import ChromaAnn, DenseScorer
from rag.filters import SearchFilters
from rag.index import CorpusIndex
from rag.retriever import Retriever

from .scale import ReplayEmbedder, default_corpus, repeated_corpus

__all__ = ["run_query_benchmark", "measure", "measure_in_process", "QUERIES"]

QUERIES = [
    "What did the Greens argue against the Mercosur trade agreement?",
    "beef quota deforestation Amazon",
    "support for Ukraine and sanctions against Russia",
    "energy prices and the electricity market reform",
    "migration pact and asylum procedures at the border",
    "rule of law in Hungary and Article 7",
    "artificial intelligence act biometric surveillance",
    "farmers protests and the common agricultural policy",
    "housing crisis affordable homes",
    "climate target 2040 emissions trading",
    "China trade dependencies critical raw materials",
    "Middle East ceasefire humanitarian aid Gaza",
    "digital services act platforms disinformation",
    "defence spending and the European defence industry",
    "floods in central Europe solidarity fund",
    "budget 2025 cuts to Erasmus",
]
# Copies are paraphrase-like (cosine ~0.8 to their original), not identical points: at a
# cosine of ~0.95 (0.017) the 101 copies of a passage stayed closer to each other than to any
# other passage, and the HNSW graph became islands (0.108 of the exact top-100 found).
COPY_JITTER = 0.038


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return {"p50_ms": round(statistics.median(ordered) * 1000, 2),
            "p95_ms": round(p95 * 1000, 2), "n": len(ordered)}


def _time(fn: Callable[[], Any], repeats: int) -> list[float]:
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return samples


def _filters_for(index: CorpusIndex, rng: random.Random) -> list[SearchFilters]:
    """Group + year filters that exist in the index (what users pick in the sidebar)."""
    parties = [p for p in index.parties if p]
    years = sorted({r.year for r in index.records})
    out = []
    for _ in range(len(QUERIES)):
        year = rng.choice(years)
        out.append(SearchFilters.build([rng.choice(parties)], [], f"{year}-01-01",
                                       f"{year}-12-31"))
    return out


def measure_in_process(settings: Settings, collection: str, rounds: int = 3) -> dict[str, Any]:
    """``measure`` in a fresh process (spawned: nothing of the ingest above is in it), with
    that query process's peak RSS: embedder, search mirror, BM25 index and Chroma client."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(_measure_child, settings, collection, rounds).result()


def _measure_child(settings: Settings, collection: str, rounds: int) -> dict[str, Any]:
    import resource

    results = measure(settings, make_embedder(None, settings), collection, rounds)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KB on Linux
    results["query_process_peak_rss_mb"] = round(peak_kb / 1024, 1)
    return results


def measure(settings: Settings, embedder: Embedder, collection: str, rounds: int = 3
            ) -> dict[str, Any]:
    client = open_client(settings)
    load_started = time.perf_counter()
    index = CorpusIndex.load(settings, client, collection)
    load_seconds = time.perf_counter() - load_started
    if len(index) == 0:
        raise InputError(f"collection {collection!r} is empty: run `hemicycle ingest` first")
    retriever = Retriever(index, embedder)
    rng = random.Random(7)
    filters = _filters_for(index, rng)
    embedder.encode_query("warm up")
    results: dict[str, Any] = {"chunks": len(index), "mirror_load_s": round(load_seconds, 2)}
    for name, mode, use_filters in [("hybrid", "hybrid", False),
                                    ("hybrid+filters", "hybrid", True),
                                    ("dense", "dense", False), ("bm25", "bm25", False)]:
        samples: list[float] = []
        for _ in range(rounds):
            for query, flt in zip(QUERIES, filters):
                samples += _time(lambda q=query, f=flt: retriever.search(
                    q, k=10, mode=mode, filters=f if use_filters else None), 1)
        results[name] = _percentiles(samples)
    vectors = [embedder.encode_query(q) for q in QUERIES]
    results.update(_stages(index, vectors, filters, rounds))
    results.update(_approximate(index, retriever, vectors, filters, ChromaAnn(
        lambda: open_collection(client, collection, create=False)), rounds))
    chroma = open_collection(client, collection)
    for name, use_filters in [("chroma_hnsw", False), ("chroma_hnsw+where", True)]:
        samples = []
        for _ in range(rounds):
            for vector, flt in zip(vectors, filters):
                where = flt.chroma_where([], []) if use_filters else None
                samples += _time(lambda v=vector, w=where: chroma.query(
                    query_embeddings=[v.tolist()], n_results=10, where=w), 1)
        results[name + " (no query embedding)"] = _percentiles(samples)
    query_embed = _time(lambda: embedder.encode_query(QUERIES[0]), 20)
    results["query_embedding"] = _percentiles(query_embed)
    return results


def _stages(index: CorpusIndex, vectors: list[Any], filters: list[SearchFilters],
            rounds: int) -> dict[str, Any]:
    """The parts of a query alone (query vectors precomputed): dense as configured and
    exact, BM25."""
    out: dict[str, Any] = {"dense_exact_rows": index.dense.exact_rows}
    exact = DenseScorer(index.embeddings, index.position)  # every row, whatever the size
    stages: list[tuple[str, Callable[[str, Any, SearchFilters], Any]]] = [
        ("stage: dense as configured", lambda q, v, f: index.dense_scores(v, None)),
        ("stage: dense as configured, filtered",
         lambda q, v, f: index.dense_scores(v, index.mask(f))),
        ("stage: dense exact, every row", lambda q, v, f: exact.scores(v, None)),
        ("stage: bm25", lambda q, v, f: index.bm25_scores(q))]
    for name, fn in stages:
        samples: list[float] = []
        for _ in range(rounds):
            for query, vector, flt in zip(QUERIES, vectors, filters):
                samples += _time(lambda q=query, v=vector, f=flt: fn(q, v, f), 1)
        out[name] = _percentiles(samples)
    return out


def _approximate(index: CorpusIndex, retriever: Retriever, vectors: list[Any],
                 filters: list[SearchFilters], ann: ChromaAnn, rounds: int) -> dict[str, Any]:
    """The same queries with the HNSW dense side (``HEMICYCLE_DENSE_ANN``): latency, how many
    of the top-10 hybrid hits it shares with the exact search (by text: the copies of a
    scaled corpus are the same passage), and how many of the exact dense top-``depth`` rows
    (what fusion takes from the dense side) are among its candidates."""
    import numpy as np

    if len(index) <= index.dense.exact_rows:
        return {}
    approx_index = copy.copy(index)
    approx_index.dense = DenseScorer(index.embeddings, index.position, ann,
                                     index.dense.exact_rows)
    approx = Retriever(approx_index, retriever.embedder, retriever.depth, retriever.fusion)
    out: dict[str, Any] = {}
    for name, use_filters in [("hybrid", False), ("hybrid+filters", True)]:
        samples: list[float] = []
        for _ in range(rounds):
            for query, flt in zip(QUERIES, filters):
                samples += _time(lambda q=query, f=flt: approx.search(
                    q, k=10, filters=f if use_filters else None), 1)
        out[f"{name}, HNSW dense side"] = _percentiles(samples)
        shared = []
        for query, flt in zip(QUERIES, filters):
            f = flt if use_filters else None
            want = Counter(h.record.text for h in retriever.search(query, 10, filters=f))
            got = Counter(h.record.text for h in approx.search(query, 10, filters=f))
            shared.append(sum((want & got).values()) / max(sum(want.values()), 1))
        out[f"{name}, HNSW: top-10 shared with exact"] = round(statistics.mean(shared), 3)
    depth = retriever.depth
    for n in (2 * depth, 4 * depth):
        recalls, times = [], []
        for vector in vectors:
            want_rows = set(np.argpartition(-(index.embeddings @ vector),
                                            depth - 1)[:depth].tolist())
            started = time.perf_counter()
            got_ids = ann(vector, n)
            times.append(time.perf_counter() - started)
            recalls.append(len(want_rows & {index.position[c] for c in got_ids}) / depth)
        out[f"exact top-{depth} found in {n} hnsw candidates"] = round(
            statistics.mean(recalls), 3)
        out[f"hnsw query, {n} candidates"] = _percentiles(times)
    return out


def run_query_benchmark(settings: Settings, scale: int = 50_000, base: int = 3000,
                        path: Path | None = None, rounds: int = 3) -> dict[str, Any]:
    embedder = make_embedder(None, settings)
    report: dict[str, Any] = {}
    try:
        report["current collection"] = measure_in_process(settings, settings.collection,
                                                          rounds)
    except InputError as exc:
        report["current collection"] = {"skipped": str(exc)}
    source = path or default_corpus()
    if scale and source is not None:
        with tempfile.TemporaryDirectory(prefix="hemicycle-qbench-") as tmp:
            tmp_dir = Path(tmp)
            bench = settings.model_copy(update={"home": tmp_dir / "home",
                                                "chroma_host": None})
            replay = ReplayEmbedder(embedder, jitter=COPY_JITTER)
            first = repeated_corpus(source, 1, base, tmp_dir / "base.jsonl")
            built = ingest_paths(bench, [first], replay, open_client(bench))
            copies = max(1, -(-scale // max(built.chunks_new, 1)))
            if copies > 1:
                more = repeated_corpus(first, copies, None, tmp_dir / "scaled.jsonl")
                ingest_paths(bench, [more], replay, open_client(bench))
            report[f"scaled ({base} real records x{copies})"] = measure_in_process(
                bench, bench.collection, rounds)
    elif scale:
        report["scaled"] = {"skipped": "../shared/corpora not found"}
    return report
