"""Corpora for benchmarks: the real corpus in ../shared/corpora, and larger ones made from it.

A larger corpus repeats the real records with new ids and a ``[copy n]`` mark in the debate
title (so the copies are distinct speeches in distinct debates).  A copy's chunks have the
same text as the original's but for that mark, hence the same meaning: ``ReplayEmbedder``
encodes the original for real once and gives its copies the same vector.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ingest.embedder import Embedder

__all__ = ["SHARED_NAME", "default_corpus", "repeated_corpus", "ReplayEmbedder"]

SHARED_NAME = Path("shared") / "corpora" / "ep-cre-10-dev.jsonl"
_COPY = re.compile(r" \[copy \d+\]")


def default_corpus() -> Path | None:
    """The real corpus in ../shared/corpora, looked up from the repo and the working dir."""
    for base in (Path(__file__).resolve().parents[2], Path.cwd().parent, Path.cwd()):
        candidate = base / SHARED_NAME
        if candidate.exists():
            return candidate
    return None


def repeated_corpus(source: Path, repeat: int, limit: int | None, target: Path,
                    min_mb: float | None = None) -> Path:
    """Stream ``source`` into ``target`` ``repeat`` times with fresh ids (its first ``limit``
    records each time); with ``min_mb``, as many times as needed to reach that size, stopping
    at the record that reaches it."""
    wanted = int(min_mb * 1e6) if min_mb else None
    written = 0
    copy = 0
    with target.open("w", encoding="utf-8") as out:
        while copy < repeat or (wanted is not None and written < wanted):
            before = written
            with source.open(encoding="utf-8") as handle:
                for i, line in enumerate(handle):
                    if limit is not None and i >= limit:
                        break
                    if wanted is not None and written >= wanted:
                        break
                    if repeat == 1 and wanted is None:
                        out.write(line)
                        continue
                    record = json.loads(line)
                    record["id"] = f"{record.get('id', i)}~r{copy}"
                    record["debate_title"] = f"{record.get('debate_title', '')} [copy {copy}]"
                    written += out.write(json.dumps(record, ensure_ascii=False) + "\n")
            copy += 1
            if wanted is not None and written == before:  # an empty source never grows
                break
    return target


class ReplayEmbedder(Embedder):
    """Encodes a text once; a copy (the same text but for its ``[copy n]`` mark) reuses the
    original's vector.  Its memo holds one vector per distinct text.

    With ``jitter`` > 0 a copy's vector is the original's plus seeded Gaussian noise of that
    standard deviation per dimension, normalized again (at 384 dimensions 0.017 gives a cosine
    of ~0.95 to the original, 0.038 ~0.8): the copies are then distinct points, as
    paraphrases would be, rather than identical ones, which no real corpus has 101 of and
    which leave a graph index (HNSW) with islands of equal vectors."""

    def __init__(self, inner: Embedder, jitter: float = 0.0) -> None:
        super().__init__(inner.model_name, inner.device, inner.batch_size, spec=inner.spec)
        self.inner = inner
        self.jitter = jitter
        self.memo: dict[str, Any] = {}

    @property
    def model(self) -> Any:
        return self.inner.model

    @property
    def tokenizer(self) -> Any:
        return self.inner.tokenizer

    def encode_query(self, text: str) -> Any:
        return self.inner.encode_query(text)

    def encode(self, texts: Sequence[str]) -> Any:
        import numpy as np

        keys = [_COPY.sub("", t) for t in texts]
        missing = list(dict.fromkeys(k for k in keys if k not in self.memo))
        if missing:
            self.memo.update(zip(missing, self.inner.encode(missing)))
        vectors = np.stack([self.memo[k] for k in keys])
        if self.jitter:
            for i, (text, key) in enumerate(zip(texts, keys)):
                if text != key:  # a copy: its own seeded noise
                    rng = np.random.default_rng(zlib.crc32(text.encode("utf-8")))
                    moved = vectors[i] + rng.normal(0.0, self.jitter, vectors.shape[1])
                    vectors[i] = moved / np.linalg.norm(moved)
        return vectors
