"""``hemicycle bench ingest``: pipeline throughput against the raw encoder, in one run.

1. ``hemicycle ingest`` in a subprocess, into a fresh temporary HEMICYCLE_HOME
   (end-to-end: read, validate, markdown, chunk, embed, write to Chroma); its peak RSS is
   the child's ``ru_maxrss``.
2. ``SentenceTransformer.encode`` alone on exactly the texts the pipeline embedded.
3. The same ingest again (nothing changed) for the re-ingest speed-up.
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

from ingest.embedder import Embedder, passage_text
from ingest.errors import InputError
from ingest.schema import Chunk, Speech
from ingest.settings import Settings

__all__ = ["run_ingest_benchmark", "default_corpus", "repeated_corpus"]

SHARED_NAME = Path("shared") / "corpora" / "ep-cre-10-dev.jsonl"


def default_corpus() -> Path | None:
    """The real corpus in ../shared/corpora, looked up from the repo and the working dir."""
    for base in (Path(__file__).resolve().parents[2], Path.cwd().parent, Path.cwd()):
        candidate = base / SHARED_NAME
        if candidate.exists():
            return candidate
    return None


def repeated_corpus(source: Path, repeat: int, limit: int | None, target: Path) -> Path:
    """Stream ``source`` ``repeat`` times into ``target`` with fresh ids (for scale tests)."""
    with target.open("w", encoding="utf-8") as out:
        for r in range(repeat):
            with source.open(encoding="utf-8") as handle:
                for i, line in enumerate(handle):
                    if limit is not None and i >= limit:
                        break
                    if repeat == 1:
                        out.write(line)
                        continue
                    record = json.loads(line)
                    record["id"] = f"{record.get('id', i)}~r{r}"
                    record["debate_title"] = f"{record.get('debate_title', '')} [copy {r}]"
                    out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return target


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


def run_ingest_benchmark(settings: Settings, path: Path | None, limit: int | None = None,
                         repeat: int = 1) -> dict[str, Any]:
    source = path or default_corpus()
    if source is None:
        raise InputError("no corpus given and ../shared/corpora/ep-cre-10-dev.jsonl not found")
    if not source.exists():
        raise InputError(f"{source}: no such file")
    with tempfile.TemporaryDirectory(prefix="hemicycle-bench-") as tmp:
        tmp_dir = Path(tmp)
        corpus = source
        if repeat > 1:
            corpus = repeated_corpus(source, repeat, limit, tmp_dir / "corpus.jsonl")
            limit = None
        home = tmp_dir / "home"
        first, first_wall = _run_ingest(corpus, home, limit)
        peak_rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        second, second_wall = _run_ingest(corpus, home, limit)
        bench_settings = settings.model_copy(update={"home": home})
        texts = _embedded_texts(bench_settings)
        embedder = Embedder(settings.embedding_model, settings.embedding_device,
                            settings.embedding_batch_size)
        embedder.encode(texts[:8])  # load and warm up outside the timing
        started = time.perf_counter()
        embedder.encode(texts)
        raw_seconds = time.perf_counter() - started
    size_mb = corpus.stat().st_size / 1e6 if limit is None else None
    chunks = first["chunks_new"]
    pipeline_cps = chunks / first["seconds"]
    raw_cps = len(texts) / raw_seconds
    return {
        "corpus": str(source) + (f" x{repeat}" if repeat > 1 else ""),
        "corpus_mb": round(size_mb, 1) if size_mb is not None else f"first {limit} records",
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
    }
