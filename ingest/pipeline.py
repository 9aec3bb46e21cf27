"""The ingest pipeline: records/documents → manifest → debate markdown → chunks → Chroma.

Each stage is idempotent: speeches whose content hash is unchanged are skipped, a debate is
re-rendered only when one of its speeches changed, only chunks with new ids are embedded,
and chunks that disappeared are deleted.  State is committed debate batch by debate batch,
so a killed run resumes without duplicates.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .documents import DOCUMENT_SUFFIXES, document_records
from .embedder import Embedder, passage_text
from .errors import InputError
from .markdown import render_debate, write_atomic
from .records import RECORD_SUFFIXES, RecordReader, Reject, to_speech
from .schema import Chunk, Speech, chunk_metadata
from .settings import Settings
from .state import Manifest
from .chunking import SpeechChunker

__all__ = ["IngestReport", "Ingestor", "expand_paths", "ingest_paths"]

SUPPORTED = RECORD_SUFFIXES | DOCUMENT_SUFFIXES

# (debate_id, chunks, {speech_id: (content key, span start)}, stale chunk ids)
_Pending = tuple[str, list[Chunk], dict[str, tuple[str, int]], set[str]]


@dataclass
class _Batch:
    pending: list[_Pending]
    to_embed: list[Chunk]
    to_update: list[Chunk]
    future: Any  # Future[(vectors, seconds)] or None


@dataclass
class IngestReport:
    records_read: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    speeches: Counter[str] = field(default_factory=Counter)  # new / changed / unchanged
    debates_indexed: int = 0
    chunks_new: int = 0
    chunks_unchanged: int = 0
    chunks_removed: int = 0
    seconds: float = 0.0
    embed_seconds: float = 0.0
    search_index_seconds: float = 0.0  # mirror + BM25 refresh, set by the caller (see ui.cli)
    rejects_path: str = ""
    skipped: list[str] = field(default_factory=list)  # files of a folder not read, and why
    errors: list[str] = field(default_factory=list)  # why a whole file could not be read

    @property
    def changed(self) -> bool:
        return bool(self.debates_indexed or self.chunks_removed)

    @property
    def chunks_per_second(self) -> float:
        return self.chunks_new / self.seconds if self.seconds else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "records_read": self.records_read, "rejected": dict(self.rejected),
            "rejected_total": sum(self.rejected.values()), "speeches": dict(self.speeches),
            "debates_indexed": self.debates_indexed, "chunks_new": self.chunks_new,
            "chunks_unchanged": self.chunks_unchanged, "chunks_removed": self.chunks_removed,
            "seconds": round(self.seconds, 3), "embed_seconds": round(self.embed_seconds, 3),
            "search_index_seconds": round(self.search_index_seconds, 3),
            "chunks_per_second": round(self.chunks_per_second, 2),
            "rejects_path": self.rejects_path, "skipped": self.skipped, "errors": self.errors,
        }

    def summary_lines(self) -> list[str]:
        rejected = ", ".join(f"{n} {reason}" for reason, n in self.rejected.most_common())
        sp = self.speeches
        notes = [f"skipped: {s}" for s in self.skipped] + [f"not read: {e}" for e in self.errors]
        return notes + [
            f"records read: {self.records_read}; rejected: {sum(self.rejected.values())}"
            + (f" ({rejected}) → {self.rejects_path}" if rejected else ""),
            f"speeches: {sp['new']} new, {sp['changed']} changed, {sp['unchanged']} unchanged;"
            f" debates re-indexed: {self.debates_indexed}",
            f"chunks: {self.chunks_new} new, {self.chunks_unchanged} unchanged,"
            f" {self.chunks_removed} removed",
            f"time: {self.seconds:.2f} s ({self.chunks_per_second:.1f} chunks/s,"
            f" embedding {self.embed_seconds:.2f} s, search index {self.search_index_seconds:.2f} s)",
        ]


def expand_paths(paths: Sequence[Path], skipped: list[str] | None = None) -> list[Path]:
    """Files to ingest: given files, and supported files found under given folders (the
    other files of a folder are added to ``skipped`` with the reason)."""
    files: list[Path] = []
    for path in paths:
        if not path.exists():
            raise InputError(f"{path}: no such file or directory")
        if path.is_dir():
            found = []
            for p in sorted(path.rglob("*")):
                if not p.is_file() or p.name.startswith("."):
                    continue
                if p.suffix.lower() in SUPPORTED:
                    found.append(p)
                elif skipped is not None:
                    skipped.append(f"{p} (unsupported type {p.suffix or '(none)'!r})")
            if not found:
                raise InputError(f"{path}: no supported files in this folder "
                                 f"({', '.join(sorted(SUPPORTED))})")
            files.extend(found)
        elif path.suffix.lower() not in SUPPORTED:
            raise InputError(f"{path}: unsupported file type {path.suffix or '(none)'!r}; "
                             f"supported: {', '.join(sorted(SUPPORTED))}")
        else:
            files.append(path)
    return files


class Ingestor:
    """Runs one ingest into one collection.  The Chroma client and embedder are passed in."""

    def __init__(self, settings: Settings, embedder: Embedder, client: Any,
                 collection: str | None = None) -> None:
        from .embedders import LEGACY_SPEC, check_embedder
        from .store import open_collection

        self.settings = settings
        self.name = collection or settings.collection
        self.embedder = embedder
        self.manifest = Manifest(settings.state_path(self.name))
        recorded = self.manifest.get_meta("embedder")
        check_embedder(recorded or (LEGACY_SPEC if self.manifest.chunk_count() else None),
                       embedder.spec, self.name)
        self.collection = open_collection(client, self.name, embedder=embedder.spec)
        check_embedder((self.collection.metadata or {}).get("embedder"), embedder.spec, self.name)
        if recorded is None:
            self.manifest.set_meta("embedder", embedder.spec)
        self.markdown_dir = settings.markdown_dir(self.name)
        self.flush_chunks = settings.ingest_flush_chunks
        self._chunker: SpeechChunker | None = None

    def close(self) -> None:
        self.manifest.close()

    @property
    def chunker(self) -> SpeechChunker:
        if self._chunker is None:
            self._chunker = SpeechChunker(self.embedder.tokenizer, self.settings.chunk_tokens,
                                          self.settings.chunk_overlap)
        return self._chunker

    # -- stage 1: read and stage speeches ----------------------------------------------------
    def _speeches(self, files: Sequence[Path], report: IngestReport,
                  default_date: dt.date | None, column_map: dict[str, str] | None
                  ) -> Iterator[Speech | Reject]:
        reader = RecordReader(self.settings.max_speech_chars, column_map)
        for path in files:
            try:
                if path.suffix.lower() in RECORD_SUFFIXES:
                    yield from reader.read(path)
                    continue
                records = list(document_records(path, default_date))  # one document is small
            except InputError as exc:  # one unreadable file never stops the others
                yield Reject(str(path), 0, "unreadable_file", None, str(exc))
                continue
            for position, record in enumerate(records, start=1):
                try:
                    yield to_speech(record, self.settings.max_speech_chars)
                except ValueError as exc:
                    yield Reject(str(path), position, str(exc), record.get("id"))

    def stage(self, files: Sequence[Path], report: IngestReport, limit: int | None = None,
              default_date: dt.date | None = None, column_map: dict[str, str] | None = None,
              progress: Callable[[Iterable[Any]], Iterable[Any]] = iter) -> None:
        seen: dict[str, str] = {}
        seq = self.manifest.next_seq()
        rejects_path = self.settings.rejects_path(self.name)
        rejects_path.parent.mkdir(parents=True, exist_ok=True)
        report.rejects_path = str(rejects_path)
        with rejects_path.open("w", encoding="utf-8") as rejects:
            for item in progress(self._speeches(files, report, default_date, column_map)):
                if limit is not None and report.records_read >= limit:
                    break
                report.records_read += 1
                if isinstance(item, Speech):
                    key = item.content_key()
                    previous = seen.get(item.speech_id)
                    if previous is not None:
                        reason = "duplicate" if previous == key else "duplicate_id"
                        item = Reject("", report.records_read, reason, item.speech_id)
                    else:
                        seen[item.speech_id] = key
                        report.speeches[self.manifest.stage(item, seq)] += 1
                        seq += 1
                        if seq % 1000 == 0:
                            self.manifest.commit()
                        continue
                report.rejected[item.reason] += 1
                if item.reason == "unreadable_file":
                    report.errors.append(item.detail)
                rejects.write(item.to_json() + "\n")
        self.manifest.commit()

    # -- stage 2: render, chunk, embed, write ------------------------------------------------
    def _debate_chunks(self, debate_id: str) -> tuple[list[Chunk], dict[str, tuple[str, int]]]:
        rows = self.manifest.debate_speeches(debate_id)
        rendered = render_debate([speech for speech, _, _ in rows])
        write_atomic(self.markdown_dir / f"{debate_id}.md", rendered.markdown)
        chunks: list[Chunk] = []
        spans: dict[str, tuple[str, int]] = {}
        for speech, chunked_key, old_start in rows:
            start = rendered.spans[speech.speech_id][0]
            key = speech.content_key()
            stored = self.manifest.speech_chunks(speech.speech_id) if chunked_key == key else []
            if stored and old_start is not None:
                shift = start - old_start
                chunks.extend(
                    Chunk(cid, speech.speech_id, speech.debate_id, speech.debate_title,
                          speech.date, speech.year, speech.speaker, speech.party, speech.role,
                          speech.language, index, s + shift, e + shift, text)
                    for cid, index, s, e, text in stored)
            else:
                chunks.extend(self.chunker.split(speech, start))
            spans[speech.speech_id] = (key, start)
        return chunks, spans

    def index(self, report: IngestReport,
              progress: Callable[..., Any] | None = None) -> None:
        """Index dirty debates in batches; batch i is embedded in a worker thread while
        batch i+1 is rendered and chunked, then written (Chroma first, manifest last)."""
        from concurrent.futures import ThreadPoolExecutor

        self._reconcile()
        dirty = self.manifest.dirty_debates()
        bar = progress(total=len(dirty)) if progress else None
        pending: list[_Pending] = []
        pending_new = 0
        in_flight: _Batch | None = None
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="embed") as pool:
            for debate_id, attempted in dirty:
                chunks, spans = self._debate_chunks(debate_id)
                old = self.manifest.debate_chunks(debate_id)
                if attempted:  # a killed run may have written chunks the manifest never saw
                    old.update({cid: (-1, -1) for cid in self._chroma_ids(debate_id)})
                stale = set(old) - {c.chunk_id for c in chunks}
                pending.append((debate_id, chunks, spans, stale))
                pending_new += sum(1 for c in chunks if c.chunk_id not in old)
                if pending_new >= self.flush_chunks:
                    batch = self._start_batch(pending, pool)
                    if in_flight is not None:
                        self._finish_batch(in_flight, report)
                    in_flight, pending, pending_new = batch, [], 0
                if bar is not None:
                    bar.update(1)
            if in_flight is not None:
                self._finish_batch(in_flight, report)
            if pending:
                self._finish_batch(self._start_batch(pending, pool), report)
        if bar is not None:
            bar.close()
        report.chunks_unchanged = max(0, self.manifest.run_chunk_count() - report.chunks_new)
        if report.debates_indexed or self.manifest.get_meta("index_version") is None:
            self.manifest.set_meta("index_version", f"{time.time_ns():x}")

    def _chroma_ids(self, debate_id: str) -> list[str]:
        return list(self.collection.get(where={"debate_id": debate_id}, include=[])["ids"])

    def _reconcile(self) -> None:
        """If Chroma and the manifest disagree (a killed run, an index deleted by hand), keep
        only the manifest chunks Chroma really has and re-check every debate."""
        if self.collection.count() == self.manifest.chunk_count():
            return
        present: set[str] = set()
        offset, page = 0, 5000
        while True:
            ids = self.collection.get(include=[], limit=page, offset=offset)["ids"]
            present.update(ids)
            if len(ids) < page:
                break
            offset += page
        self.manifest.keep_only_chunks(present)
        self.manifest.mark_all_dirty()

    def _start_batch(self, pending: list[_Pending], pool: Any) -> _Batch:
        """Decide what the batch needs and start embedding its new chunks in the pool."""
        self.manifest.mark_attempted(d for d, _, _, _ in pending)
        to_embed: list[Chunk] = []
        to_update: list[Chunk] = []
        for debate_id, chunks, _, _ in pending:
            old = self.manifest.debate_chunks(debate_id)
            for chunk in chunks:
                if chunk.chunk_id not in old:
                    to_embed.append(chunk)
                elif old[chunk.chunk_id] != (chunk.char_start, chunk.char_end):
                    to_update.append(chunk)
        future = pool.submit(self._timed_encode, [passage_text(c) for c in to_embed]) \
            if to_embed else None
        return _Batch(pending, to_embed, to_update, future)

    def _timed_encode(self, texts: list[str]) -> tuple[Any, float]:
        started = time.perf_counter()
        return self.embedder.encode(texts), time.perf_counter() - started

    def _finish_batch(self, batch: _Batch, report: IngestReport) -> None:
        """Write a batch: vectors and metadata to Chroma, then the manifest (one commit)."""
        if batch.future is not None:
            vectors, seconds = batch.future.result()
            report.embed_seconds += seconds
            self._record_dimension(int(vectors.shape[1]))
            self._write(self.collection.upsert, batch.to_embed, vectors)
        if batch.to_update:
            self._write(self.collection.update, batch.to_update, None)
        stale = [cid for _, _, _, debate_stale in batch.pending for cid in debate_stale]
        if stale:
            self.collection.delete(ids=stale)
        for debate_id, chunks, spans, _ in batch.pending:
            self.manifest.finish_debate(debate_id, chunks, spans)
        self.manifest.commit()
        report.chunks_new += len(batch.to_embed)
        report.chunks_removed += len(stale)
        report.debates_indexed += len(batch.pending)

    def _record_dimension(self, dimension: int) -> None:
        from .store import record_embedder

        if self.manifest.get_meta("embedding_dimension") != str(dimension):
            self.manifest.set_meta("embedding_dimension", str(dimension))
            record_embedder(self.collection, self.embedder.spec, dimension)

    def _write(self, method: Callable[..., Any], chunks: list[Chunk], vectors: Any) -> None:
        step = 4000  # below Chroma's max batch size
        for i in range(0, len(chunks), step):
            part = chunks[i: i + step]
            kwargs: dict[str, Any] = {
                "ids": [c.chunk_id for c in part],
                "metadatas": [chunk_metadata(c) for c in part],
            }
            if vectors is not None:  # never hand Chroma a document without its vector:
                kwargs["embeddings"] = vectors[i: i + step]  # it would try to embed it itself
                kwargs["documents"] = [c.text for c in part]
            method(**kwargs)


def ingest_paths(settings: Settings, paths: Sequence[Path], embedder: Embedder, client: Any,
                 collection: str | None = None, limit: int | None = None,
                 default_date: dt.date | None = None, column_map: dict[str, str] | None = None,
                 show_progress: bool = False) -> IngestReport:
    """Ingest files and folders into one collection; return what was done."""
    report = IngestReport()
    files = expand_paths(paths, report.skipped)
    started = time.perf_counter()
    ingestor = Ingestor(settings, embedder, client, collection)
    try:
        record_bar: Callable[[Iterable[Any]], Iterable[Any]] = iter
        debate_bar: Callable[..., Any] | None = None
        if show_progress:
            from functools import partial

            from tqdm import tqdm

            record_bar = partial(tqdm, desc="reading", unit=" rec", leave=False)
            debate_bar = partial(tqdm, desc="indexing", unit=" debates", leave=False)
        ingestor.stage(files, report, limit, default_date, column_map, record_bar)
        ingestor.index(report, debate_bar)
    finally:
        ingestor.close()
        report.seconds = time.perf_counter() - started
    return report
