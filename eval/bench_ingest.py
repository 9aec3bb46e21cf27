"""``hemicycle bench ingest``: ingest throughput against the raw encoder, and memory at scale.

Throughput (the given corpus, or ../shared/corpora's real one):

1. ``hemicycle ingest`` in a subprocess, into a fresh temporary HEMICYCLE_HOME (end to end:
   read, validate, markdown, chunk, embed, write to Chroma, refresh the search mirror).
2. ``SentenceTransformer.encode`` alone, in this process, on exactly the texts the pipeline
   embedded (read back from the manifest), with the same batch size.
3. The same ingest again (nothing changed) for the re-ingest speed-up.

Memory (``--memory-mb``, default 45): the corpus repeated with new ids until it is at least
that large, ingested in a child process whose peak RSS (``ru_maxrss``) is reported.  Copies
reuse the vector of their original (``ReplayEmbedder``): the original chunks are encoded for
real in that child (so the encoder's memory peak is in the figure), the copies are chunked,
written to Chroma and indexed like any other speech.  The replay memo (one vector and one key
per distinct chunk) is counted in the figure, which overstates what a plain ingest needs.
"""

from __future__ import annotations

import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ingest.embedder import passage_text
from ingest.embedders import make_embedder
from ingest.errors import InputError
from ingest.schema import Chunk, Speech
from ingest.settings import Settings

from .bench_embed import FULL_CORPUS_SPEECHES
from .scale import default_corpus, repeated_corpus

__all__ = ["run_ingest_benchmark"]


def _run_ingest(path: Path, home: Path, limit: int | None) -> tuple[dict[str, Any], float]:
    args = [sys.executable, "-c", "from ui.cli import main; main()", "ingest", str(path),
            "--no-progress", "--json"]
    if limit is not None:
        args += ["--limit", str(limit)]
    started = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, text=True,
                          env={**os.environ, "HEMICYCLE_HOME": str(home)})
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise InputError(f"benchmark ingest failed: {proc.stderr.strip()}")
    return json.loads(proc.stdout), wall


def _embedded_texts(settings: Settings) -> list[str]:
    """The exact texts the pipeline embedded, from the manifest."""
    with sqlite3.connect(settings.state_path()) as db:
        rows = db.execute("SELECT c.chunk_id, c.speech_id, c.chunk_index, c.char_start, "
                          "c.char_end, c.text, s.body FROM chunks c JOIN speeches s "
                          "USING (speech_id)").fetchall()
    texts = []
    for cid, sid, index, start, end, text, body in rows:
        sp = Speech(**json.loads(body))
        texts.append(passage_text(Chunk(cid, sid, sp.debate_id, sp.debate_title, sp.date,
                                        sp.year, sp.speaker, sp.party, sp.role, sp.language,
                                        index, start, end, text)))
    return texts


def _throughput(settings: Settings, corpus: Path, limit: int | None, tmp_dir: Path
                ) -> dict[str, Any]:
    home = tmp_dir / "throughput"
    first, first_wall = _run_ingest(corpus, home, limit)
    peak_rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    second, second_wall = _run_ingest(corpus, home, limit)
    texts = _embedded_texts(settings.model_copy(update={"home": home}))
    embedder = make_embedder(None, settings)
    embedder.encode(texts[:8])  # load and warm up outside the timing
    started = time.perf_counter()
    embedder.encode(texts)
    raw_seconds = time.perf_counter() - started
    chunks = first["chunks_new"]
    pipeline_cps = chunks / first["seconds"]
    raw_cps = len(texts) / raw_seconds
    return {
        "records": first["records_read"],
        "rejected": first["rejected_total"],
        "chunks": chunks,
        "pipeline_seconds": round(first["seconds"], 1),
        "pipeline_wall_seconds_incl_startup": round(first_wall, 1),
        "pipeline_chunks_per_s": round(pipeline_cps, 2),
        "raw_encoder_seconds": round(raw_seconds, 1),
        "raw_encoder_chunks_per_s": round(raw_cps, 2),
        "pipeline_vs_raw_encoder": round(pipeline_cps / raw_cps, 3),
        "reingest_seconds": round(second["seconds"], 2),
        "reingest_new_chunks": second["chunks_new"],
        "reingest_speedup": round(first["seconds"] / max(second["seconds"], 1e-9), 1),
        "reingest_wall_speedup_incl_startup": round(first_wall / second_wall, 1),
        "peak_rss_mb": round(peak_rss_mb, 1),
        # the full EU Debates corpus through this pipeline at the measured rate
        "full_corpus_ingest_hours_projected": round(
            FULL_CORPUS_SPEECHES * chunks / max(first["records_read"] - first["rejected_total"],
                                                1) / pipeline_cps / 3600, 2),
    }


def _memory(source: Path, min_mb: float, tmp_dir: Path) -> dict[str, Any]:
    corpus = repeated_corpus(source, 1, None, tmp_dir / "scaled.jsonl", min_mb=min_mb)
    proc = subprocess.run(
        [sys.executable, "-m", "eval.bench_ingest", str(corpus), str(tmp_dir / "memory")],
        capture_output=True, text=True)
    if proc.returncode != 0:
        raise InputError(f"memory benchmark failed: {proc.stderr.strip()[-400:]}")
    child = json.loads(proc.stdout)
    return {
        "memory_corpus_mb": round(corpus.stat().st_size / 1e6, 1),
        "memory_copies_of_source": round(corpus.stat().st_size / source.stat().st_size, 2),
        "memory_records": child["records_read"],
        "memory_chunks": child["chunks_new"],
        "memory_chunks_encoded_for_real": child["encoded"],
        "memory_seconds": round(child["seconds"], 1),
        "memory_peak_rss_mb": child["peak_rss_mb"],
    }


def run_ingest_benchmark(settings: Settings, path: Path | None, limit: int | None = None,
                         repeat: int = 1, memory_mb: float = 45.0,
                         throughput: bool = True) -> dict[str, Any]:
    source = path or default_corpus()
    if source is None:
        raise InputError("no corpus given and ../shared/corpora/ep-cre-10-dev.jsonl not found")
    if not source.exists():
        raise InputError(f"{source}: no such file")
    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="hemicycle-bench-") as tmp:
        tmp_dir = Path(tmp)
        corpus = source
        if repeat > 1:
            corpus = repeated_corpus(source, repeat, limit, tmp_dir / "corpus.jsonl")
            limit = None
        result["corpus"] = str(source) + (f" x{repeat}" if repeat > 1 else "")
        result["corpus_mb"] = round(corpus.stat().st_size / 1e6, 1) if limit is None \
            else f"first {limit} records"
        if throughput:
            result.update(_throughput(settings, corpus, limit, tmp_dir))
        if memory_mb:
            result.update(_memory(source, memory_mb, tmp_dir))
    return result


def _memory_child(corpus: Path, home: Path) -> None:
    """``python -m eval.bench_ingest CORPUS HOME``: one ingest as ``hemicycle ingest`` does it
    (search mirror included), with replayed copies; prints its report and peak RSS."""
    from ui.services import Services

    from .scale import ReplayEmbedder

    settings = Settings(home=home)
    embedder = ReplayEmbedder(make_embedder(None, settings))
    report = Services(settings, _embedder=embedder).ingest([corpus])
    print(json.dumps({**report.to_dict(), "encoded": len(embedder.memo),
                      "peak_rss_mb": round(resource.getrusage(
                          resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}))

if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    _memory_child(Path(sys.argv[1]), Path(sys.argv[2]))
