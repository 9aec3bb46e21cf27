"""``hemicycle bench embed``: every embedder backend on the same real chunks, in one run.

The chunks are the real speeches of ``../shared/corpora`` (or the given records), split by
the ingest chunker (MiniLM word pieces), embedded as ingest embeds them (``passage_text``).
To keep a busy machine from favouring whichever backend runs at a quiet moment, the
backends take turns: the chunks are cut into slices and each slice is encoded by every
backend in turn; chunks/s is all chunks over the summed time.  Query latency is
``encode_query`` on the gold questions, one at a time, also in turns, p50 / p95.  The
projection is the time to embed the full EU Debates corpus (~87k speeches, chunk count
scaled from the measured chunks per speech) at the measured rate.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from ingest.chunking import SpeechChunker
from ingest.embedder import LocalTokenizer, passage_text, resolve_model_path
from ingest.embedders import make_embedder
from ingest.errors import InputError
from ingest.records import RecordReader
from ingest.schema import Speech
from ingest.settings import Settings

from .scale import default_corpus

__all__ = ["run_embed_benchmark", "real_chunks", "DEFAULT_BACKENDS", "FULL_CORPUS_SPEECHES"]

DEFAULT_BACKENDS = ("st:all-MiniLM-L6-v2", "onnx", "onnx-int8", "e5-multilingual")
FULL_CORPUS_SPEECHES = 87_000
_QUERIES = Path(__file__).resolve().parents[1] / "data" / "eval" / "retrieval-gold.jsonl"


def real_chunks(settings: Settings, path: Path, n_chunks: int) -> tuple[list[str], int]:
    """The first ``n_chunks`` passage texts of ``path`` and how many speeches they came from."""
    chunker = SpeechChunker(LocalTokenizer(resolve_model_path("all-MiniLM-L6-v2")),
                            settings.chunk_tokens, settings.chunk_overlap)
    texts: list[str] = []
    speeches = 0
    for item in RecordReader(settings.max_speech_chars).read(path):
        if not isinstance(item, Speech):
            continue  # a rejected record
        speeches += 1
        texts.extend(passage_text(c) for c in chunker.split(item, 0))
        if len(texts) >= n_chunks:
            break
    return texts[:n_chunks], speeches


def _percentile(values: list[float], q: float) -> float:
    import numpy as np

    return float(np.percentile(values, q))


def run_embed_benchmark(settings: Settings, specs: list[str] | None = None,
                        path: Path | None = None, n_chunks: int = 1000, slices: int = 5,
                        n_queries: int = 60) -> dict[str, Any]:
    source = path or default_corpus()
    if source is None:
        raise InputError("no corpus: give records or put ../shared/corpora in place")
    texts, speeches = real_chunks(settings, source, n_chunks)
    chunks_per_speech = len(texts) / max(speeches, 1)
    queries = [json.loads(line)["question"] for line in
               _QUERIES.read_text(encoding="utf-8").splitlines() if line.strip()][:n_queries]
    backends = {spec: make_embedder(spec, settings) for spec in (specs or DEFAULT_BACKENDS)}
    for backend in backends.values():  # load, export if needed, warm up: outside the timing
        backend.encode(texts[:16])
        backend.encode_query("warm up")
    seconds = dict.fromkeys(backends, 0.0)
    step = -(-len(texts) // slices)
    for start in range(0, len(texts), step):
        for spec, backend in backends.items():
            began = time.perf_counter()
            backend.encode(texts[start: start + step])
            seconds[spec] += time.perf_counter() - began
    latency: dict[str, list[float]] = {spec: [] for spec in backends}
    for query in queries:
        for spec, backend in backends.items():
            began = time.perf_counter()
            backend.encode_query(query)
            latency[spec].append((time.perf_counter() - began) * 1000)
    full_chunks = FULL_CORPUS_SPEECHES * chunks_per_speech
    report: dict[str, Any] = {
        "corpus": str(source), "chunks": len(texts), "speeches": speeches,
        "chunks_per_speech": round(chunks_per_speech, 2),
        "full_corpus_chunks_projected": int(full_chunks), "queries": len(queries),
        "backends": {},
    }
    base = None
    for spec in backends:
        cps = len(texts) / seconds[spec]
        base = base or cps
        report["backends"][spec] = {
            "chunks_per_s": round(cps, 1),
            "speedup_vs_first": round(cps / base, 2),
            "query_p50_ms": round(_percentile(latency[spec], 50), 1),
            "query_p95_ms": round(_percentile(latency[spec], 95), 1),
            "full_corpus_embed_hours": round(full_chunks / cps / 3600, 2),
        }
    return report
