"""``hemicycle reembed``: a copy of a collection built with another embedder.

The chunks come from the source collection's manifest (their text and metadata), so no
input is read again and the chunk ids are the same.  Vectors are written to the target
Chroma collection batch by batch; a run killed at any point resumes by embedding only the
chunks the target does not have yet.  When every chunk is in, the manifest and the debate
markdown are copied and stamped with the new embedder, and the target is ready to query
(``HEMICYCLE_COLLECTION=NEW HEMICYCLE_EMBEDDER=SPEC``).
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from .embedder import Embedder, passage_text
from .embedders import LEGACY_SPEC, check_embedder
from .errors import InputError
from .schema import Chunk, chunk_metadata
from .settings import Settings
from .state import Manifest
from .store import open_collection, record_embedder

__all__ = ["ReembedReport", "reembed", "default_target"]


@dataclass(frozen=True)
class ReembedReport:
    source: str
    target: str
    embedder: str
    chunks: int
    embedded: int  # in this run
    already_there: int  # written by an earlier, interrupted run
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "seconds": round(self.seconds, 2)}


def default_target(source: str, spec: str) -> str:
    """``debates`` + ``onnx-int8`` → ``debates-onnx-int8`` (a valid Chroma name)."""
    return f"{source}-{re.sub(r'[^A-Za-z0-9]+', '-', spec).strip('-')}"[:200]


def _stored_chunks(manifest: Manifest) -> Iterator[Chunk]:
    """Every chunk of the manifest with its speech's metadata, streamed speech by speech."""
    speech = None
    for cid, sid, index, start, end, text in manifest.db.execute(
            "SELECT chunk_id, speech_id, chunk_index, char_start, char_end, text FROM chunks "
            "ORDER BY speech_id, chunk_index"):
        if speech is None or speech.speech_id != sid:
            speech = manifest.speech(sid)
            assert speech is not None, sid
        yield Chunk(cid, sid, speech.debate_id, speech.debate_title, speech.date, speech.year,
                    speech.speaker, speech.party, speech.role, speech.language, index, start,
                    end, text)


def _present_ids(collection: Any, page: int = 5000) -> set[str]:
    present: set[str] = set()
    offset = 0
    while True:
        ids = collection.get(include=[], limit=page, offset=offset)["ids"]
        present.update(ids)
        if len(ids) < page:
            return present
        offset += page


def reembed(settings: Settings, client: Any, embedder: Embedder, source: str | None = None,
            target: str | None = None,
            progress: Callable[[int, int], None] | None = None) -> ReembedReport:
    """Build (or finish building) ``target`` from ``source``'s chunks with ``embedder``."""
    started = time.perf_counter()
    source = source or settings.collection
    target = target or default_target(source, embedder.spec)
    if target == source:
        raise InputError(f"reembed needs a new collection name, not the source {source!r}")
    if not settings.state_path(source).exists():
        raise InputError(f"collection {source!r} does not exist (nothing to re-embed)")
    src = Manifest(settings.state_path(source))
    try:
        total = src.chunk_count()
        if total == 0:
            raise InputError(f"collection {source!r} has no chunks (nothing to re-embed)")
        if settings.state_path(target).exists():
            done = Manifest(settings.state_path(target))
            try:
                check_embedder(done.get_meta("embedder") or LEGACY_SPEC, embedder.spec, target)
            finally:
                done.close()
        collection = open_collection(client, target, embedder=embedder.spec)
        check_embedder((collection.metadata or {}).get("embedder"), embedder.spec, target)
        present = _present_ids(collection)
        wanted: set[str] = set()
        batch: list[Chunk] = []
        embedded = 0
        dimension = None

        def flush() -> None:
            nonlocal embedded, dimension
            vectors = embedder.encode([passage_text(c) for c in batch])
            dimension = int(vectors.shape[1])
            collection.upsert(ids=[c.chunk_id for c in batch], embeddings=vectors,
                              metadatas=[chunk_metadata(c) for c in batch],
                              documents=[c.text for c in batch])
            embedded += len(batch)
            batch.clear()
            if progress:
                progress(len(present & wanted) + embedded, total)

        for chunk in _stored_chunks(src):
            wanted.add(chunk.chunk_id)
            if chunk.chunk_id in present:
                continue
            batch.append(chunk)
            if len(batch) >= min(settings.ingest_flush_chunks, 4000):
                flush()
        if batch:
            flush()
        stale = sorted(present - wanted)  # the source changed since an interrupted run
        for i in range(0, len(stale), 4000):
            collection.delete(ids=stale[i: i + 4000])
        if embedded or stale or not settings.state_path(target).exists():
            if dimension is None:
                dimension = embedder.dimension
            record_embedder(collection, embedder.spec, dimension)
            _copy_state(settings, src, source, target, embedder.spec, dimension)
    finally:
        src.close()
    return ReembedReport(source, target, embedder.spec, total, embedded,
                         len(present & wanted), time.perf_counter() - started)


def _copy_state(settings: Settings, src: Manifest, source: str, target: str, spec: str,
                dimension: int) -> None:
    """The source manifest and markdown, copied and stamped (the manifest last, atomically)."""
    import os

    markdown = settings.markdown_dir(source)
    if markdown.exists():
        shutil.copytree(markdown, settings.markdown_dir(target), dirs_exist_ok=True)
    path = settings.state_path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name("state.reembed.tmp")
    tmp.unlink(missing_ok=True)
    copy = sqlite3.connect(tmp)
    try:
        src.db.backup(copy)
        copy.executemany("INSERT OR REPLACE INTO meta VALUES (?,?)", [
            ("embedder", spec), ("embedding_dimension", str(dimension)),
            ("index_version", f"{time.time_ns():x}"), ("reembedded_from", source)])
        copy.commit()
        copy.execute("PRAGMA journal_mode=DELETE")
    finally:
        copy.close()
    for suffix in ("-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    os.replace(tmp, path)
