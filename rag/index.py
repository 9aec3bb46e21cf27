"""An in-memory mirror of one collection for fast filtered retrieval.

Chroma is the store of record (embedded or server).  Its filtered HNSW query (a
``where`` on group + year) costs ~150–210 ms at 65k chunks on a 2-core machine (``hemicycle
bench query``), so queries run against this mirror instead: the normalized
embeddings as one float32 matrix (exact cosine by one mat-vec), the BM25 index, and the
metadata as integer columns, so a filter on groups, speakers, dates and debates is one
boolean mask applied to both sides; at scale a narrow filter is scored on its rows only,
and ``HEMICYCLE_DENSE_ANN`` takes the dense candidates from Chroma's HNSW index instead
(``rag.dense``).  The mirror is loaded from Chroma once, cached under
the collection folder, and reloaded when an ingest changed the corpus.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest.schema import Speech
from ingest.settings import Settings
from ingest.state import Manifest

from .dense import ChromaAnn, DenseScorer
from .filters import SearchFilters
from .lexical import Bm25Index, tokenize

__all__ = ["ChunkRecord", "CorpusIndex"]


@dataclass(frozen=True, slots=True)
class ChunkRecord:
    chunk_id: str
    speech_id: str
    debate_id: str
    debate_title: str
    date: str
    year: int
    speaker: str
    party: str
    role: str
    language: str
    chunk_index: int
    char_start: int
    char_end: int
    text: str
    translated: bool = False  # the text is a translation of a speech in ``language``


def _codes(values: list[str]) -> tuple[Any, list[str]]:
    import numpy as np

    labels = sorted(set(values))
    lookup = {v: i for i, v in enumerate(labels)}
    return np.array([lookup[v] for v in values], dtype=np.int32), labels


class CorpusIndex:
    """Chunks, embeddings, BM25 and metadata columns of one collection, held in memory."""

    def __init__(self, records: list[ChunkRecord], embeddings: Any, bm25: Bm25Index | None,
                 version: str, markdown_dir: Path | None = None,
                 speeches: dict[str, Speech] | None = None,
                 arguments: dict[str, tuple[str, tuple[str, ...], str]] | None = None,
                 embedder_spec: str | None = None, name: str = "",
                 ann: ChromaAnn | None = None, exact_rows: int = 40_000) -> None:
        import numpy as np

        self.embedder_spec = embedder_spec  # what the vectors were made with (None: unknown)
        self.name = name
        self.records = records
        self.embeddings = embeddings
        self.bm25 = bm25
        self.version = version
        self.markdown_dir = markdown_dir
        self._by_speech: dict[str, list[ChunkRecord]] | None = None
        self._markdown_cache: dict[str, str] = {}
        self.speeches = speeches or {}
        self.arguments = arguments or {}  # speech_id -> (stance, topics, provider)
        self.position = {r.chunk_id: i for i, r in enumerate(records)}
        self.dense = DenseScorer(embeddings, self.position, ann, exact_rows)
        self.party_code, self.parties = _codes([r.party for r in records])
        self.speaker_code, self.speaker_names = _codes([r.speaker for r in records])
        self.debate_code, self.debate_ids = _codes([r.debate_id for r in records])
        self.debate_titles = {r.debate_id: (r.debate_title, r.date) for r in records}
        self.date_int = np.array([int(r.date.replace("-", "")) for r in records], dtype=np.int32)
        self.speech_code, self.speech_ids = _codes([r.speech_id for r in records])
        self.language_code, self.languages = _codes([r.language for r in records])

    def __len__(self) -> int:
        return len(self.records)

    # -- loading -------------------------------------------------------------------------------
    @classmethod
    def load(cls, settings: Settings, client: Any, collection: str | None = None) -> CorpusIndex:
        """Build the mirror from the manifest and Chroma, reusing the on-disk cache."""
        from ingest.store import open_collection

        name = collection or settings.collection
        manifest = Manifest(settings.state_path(name))
        try:
            version = manifest.get_meta("index_version") or "empty"
            embedder_spec = manifest.get_meta("embedder")
            # speeches once each, then chunks streamed (a join would repeat each speech's
            # whole body on every one of its chunks' rows)
            speeches = {sid: Speech(**json.loads(body)) for sid, body in manifest.db.execute(
                "SELECT speech_id, body FROM speeches WHERE speech_id IN "
                "(SELECT DISTINCT speech_id FROM chunks)")}
            records = []
            for cid, sid, index, start, end, text in manifest.db.execute(
                    "SELECT chunk_id, speech_id, chunk_index, char_start, char_end, text "
                    "FROM chunks ORDER BY chunk_id"):
                speech = speeches[sid]
                records.append(ChunkRecord(
                    cid, sid, speech.debate_id, speech.debate_title, speech.date, speech.year,
                    speech.speaker, speech.party, speech.role, speech.language, index, start,
                    end, text, speech.translated))
        finally:
            manifest.close()
        folder = settings.collection_dir(name)
        ids = [r.chunk_id for r in records]
        embeddings = _mirror_vectors(folder / "mirror", version, ids,
                                     lambda: open_collection(client, name))
        bm25 = None
        if records:
            bm25_dir = settings.bm25_dir(name)
            try:
                if (bm25_dir / "version").read_text() == version:
                    bm25 = Bm25Index.load(bm25_dir)
            except OSError:
                bm25 = None
            if bm25 is None:
                bm25 = Bm25Index.build(_lexical_text(r) for r in records)
                bm25.save(bm25_dir)
                (bm25_dir / "version").write_text(version)
        if embedder_spec is None and records:
            from ingest.embedders import LEGACY_SPEC

            embedder_spec = LEGACY_SPEC
        ann = (ChromaAnn(lambda: open_collection(client, name, create=False))
               if settings.dense_ann else None)
        return cls(records, embeddings, bm25, version, settings.markdown_dir(name), speeches,
                   _arguments(settings, name), embedder_spec, name, ann,
                   settings.dense_exact_rows)

    # -- filtering -----------------------------------------------------------------------------
    def mask(self, filters: SearchFilters | None) -> Any:
        """Boolean row mask for the filters; None when nothing is filtered."""
        import numpy as np

        if filters is None or not filters.active:
            return None
        mask = np.ones(len(self.records), dtype=bool)
        if filters.parties:
            codes = [i for i, p in enumerate(self.parties) if p in filters.parties]
            mask &= np.isin(self.party_code, codes)
        if filters.speakers:
            codes = [i for i, s in enumerate(self.speaker_names) if filters.matches_speaker(s)]
            mask &= np.isin(self.speaker_code, codes)
        if filters.debates:
            codes = [i for i, d in enumerate(self.debate_ids)
                     if filters.matches_debate(d, self.debate_titles[d][0])]
            mask &= np.isin(self.debate_code, codes)
        if filters.date_from:
            mask &= self.date_int >= int(filters.date_from.strftime("%Y%m%d"))
        if filters.date_to:
            mask &= self.date_int <= int(filters.date_to.strftime("%Y%m%d"))
        for key, value in filters.extra:
            mask &= np.array([getattr(r, key, None) == value for r in self.records])
        if filters.stances or filters.topics:
            args = [self.arguments.get(sid, ("", (), "")) for sid in self.speech_ids]
            keep = np.array([(not filters.stances or a[0] in filters.stances) and
                             (not filters.topics or bool(set(a[1]) & set(filters.topics)))
                             for a in args], dtype=bool)
            mask &= keep[self.speech_code]
        return mask

    # -- scoring -------------------------------------------------------------------------------
    def dense_scores(self, query_vector: Any, mask: Any = None, depth: int = 100) -> Any:
        """Cosines to the query: exact, or HNSW candidates at scale (``rag.dense``)."""
        return self.dense.scores(query_vector, mask, depth)

    def bm25_scores(self, query: str) -> Any:
        import numpy as np

        if self.bm25 is None:
            return np.zeros(len(self.records), dtype=np.float32)
        return self.bm25.scores(query)

    def has_query_terms(self, query: str) -> bool:
        return self.bm25 is not None and any(t in self.bm25.vocab for t in tokenize(query))

    # -- text ----------------------------------------------------------------------------------
    def speech_text(self, speech_id: str) -> str:
        speech = self.speeches.get(speech_id)
        return speech.text if speech else ""

    def widen(self, record: ChunkRecord, min_words: int,
              keep_out: frozenset[str] = frozenset()) -> ChunkRecord:
        """The passage around ``record``, grown to at least ``min_words`` words.

        A chunk can be short (a speech's opening paragraph, when the next paragraph alone
        fills a chunk), and then holds the speaker's framing but not the arguments.  It is
        joined with the next chunks of the same speech (then the previous ones), never with
        a chunk in ``keep_out`` (already a source of its own).  The text is the span of the
        debate markdown those chunks cover, so quotes and character spans stay exact.
        """
        if len(record.text.split()) >= min_words or self.markdown_dir is None:
            return record
        siblings = self._siblings().get(record.speech_id, [])
        at = next((i for i, r in enumerate(siblings) if r.chunk_id == record.chunk_id), None)
        if at is None:
            return record
        start, end = record.char_start, record.char_end
        words = len(record.text.split())
        for step in (1, -1):  # the following chunks first, then the preceding ones
            i = at + step
            while words < min_words and 0 <= i < len(siblings) and \
                    siblings[i].chunk_id not in keep_out:
                start, end = min(start, siblings[i].char_start), max(end, siblings[i].char_end)
                words = len(self._markdown(record.debate_id)[start:end].split())
                i += step
        if (start, end) == (record.char_start, record.char_end):
            return record
        text = self._markdown(record.debate_id)[start:end]
        return dataclasses.replace(record, text=text, char_start=start, char_end=end)

    def _siblings(self) -> dict[str, list[ChunkRecord]]:
        if self._by_speech is None:
            by_speech: dict[str, list[ChunkRecord]] = {}
            for r in self.records:
                by_speech.setdefault(r.speech_id, []).append(r)
            for chunks in by_speech.values():
                chunks.sort(key=lambda r: r.chunk_index)
            self._by_speech = by_speech
        return self._by_speech

    def _markdown(self, debate_id: str) -> str:
        if debate_id not in self._markdown_cache:
            assert self.markdown_dir is not None
            self._markdown_cache[debate_id] = (
                self.markdown_dir / f"{debate_id}.md").read_text("utf-8")
        return self._markdown_cache[debate_id]


def _mirror_vectors(cache: Path, version: str, ids: list[str], collection: Any) -> Any:
    """The vectors of ``ids`` in order, updated incrementally.

    The cache (``vectors.npy`` + ``ids.json``) is reused as it is when the index version is
    unchanged; otherwise rows of chunks still present are kept and only new chunks' vectors
    are fetched from Chroma (``collection`` is a callable, so nothing is opened when the cache
    is current).
    """
    import numpy as np

    old_ids: list[str] = []
    old_vectors = None
    try:
        old_ids = json.loads((cache / "ids.json").read_text())
        old_vectors = np.load(cache / "vectors.npy", mmap_mode="r")
        if (cache / "version").read_text() == version and old_ids == ids:
            return np.ascontiguousarray(old_vectors, dtype=np.float32)
    except (OSError, ValueError):
        old_ids, old_vectors = [], None
    if old_vectors is None or len(old_ids) != old_vectors.shape[0]:
        old_ids, old_vectors = [], None
    row = {cid: i for i, cid in enumerate(old_ids)}
    missing = [cid for cid in ids if cid not in row]
    batches = _fetch_vectors(collection(), missing) if missing else iter(())
    first = next(batches, None)
    dim = old_vectors.shape[1] if old_vectors is not None else (
        first[1].shape[1] if first is not None else 384)
    vectors = np.empty((len(ids), dim), dtype=np.float32)
    position = {cid: i for i, cid in enumerate(ids)}
    for i, cid in enumerate(ids):
        if cid in row:
            vectors[i] = old_vectors[row[cid]]
    found = 0
    for got_ids, got in itertools.chain([first] if first else [], batches):
        vectors[[position[cid] for cid in got_ids]] = got
        found += len(got_ids)
    if found != len(missing):
        from ingest.errors import StoreError

        raise StoreError(f"{len(missing) - found} chunks are in the manifest but not in Chroma "
                         "(run `hemicycle ingest` again to repair the index)")
    del old_vectors  # release the memory map before replacing the file
    cache.mkdir(parents=True, exist_ok=True)
    tmp = cache / "vectors.tmp.npy"
    np.save(tmp, vectors)
    os.replace(tmp, cache / "vectors.npy")
    (cache / "ids.json").write_text(json.dumps(ids))
    (cache / "version").write_text(version)
    return vectors


def _fetch_vectors(collection: Any, ids: list[str],
                   step: int = 2000) -> Iterator[tuple[list[str], Any]]:
    """Vectors of ``ids`` from Chroma, a batch at a time, as float32 (Chroma returns float64)."""
    import numpy as np

    for i in range(0, len(ids), step):
        got = collection.get(ids=ids[i: i + step], include=["embeddings"])
        if got["ids"]:
            yield list(got["ids"]), np.asarray(got["embeddings"], dtype=np.float32)


def _arguments(settings: Settings, name: str) -> dict[str, tuple[str, tuple[str, ...], str]]:
    """Stance, topics and provider per enriched speech (``hemicycle enrich``), if any."""
    path = settings.collection_dir(name) / "arguments.sqlite"
    if not path.exists():
        return {}
    from ingest.argstore import ArgumentStore

    store = ArgumentStore(path)
    try:
        return store.labels()
    finally:
        store.close()


def _lexical_text(record: ChunkRecord) -> str:
    return f"{record.debate_title} {record.speaker} {record.party} {record.text}"
