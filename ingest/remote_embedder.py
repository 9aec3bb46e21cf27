"""The remote backend ``openai:MODEL@BASE_URL``: any OpenAI-compatible ``/v1/embeddings``
endpoint (a GPU box running infinity-emb, text-embeddings-inference or vLLM; OpenAI itself).

Texts go in batches of ``HEMICYCLE_EMBEDDING_BATCH_SIZE``.  The ``openai`` SDK retries 429
(honouring ``retry-after``), 5xx and timeouts with exponential backoff, as the LLM layer does
(``HEMICYCLE_LLM_MAX_RETRIES``, ``HEMICYCLE_LLM_TIMEOUT_S``); what still fails is one
``ProviderError`` line.  Seam: a shared rate limiter (none exists in the LLM layer yet) would
wrap ``_post`` below.  Chunk lengths are counted with a local tokenizer (the bundled
MiniLM's unless the spec's model is a local folder with a ``tokenizer.json``): a server
truncates what is longer than its model takes, so the count only has to be close.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .embedder import Embedder, LocalTokenizer, normalize_rows, resolve_model_path
from .errors import ConfigError, ProviderError

__all__ = ["OpenAIEmbedder"]


class OpenAIEmbedder(Embedder):
    def __init__(self, model: str, base_url: str, api_key: str | None = None,
                 batch_size: int = 64, timeout_s: float = 60.0, max_retries: int = 4,
                 tokenizer_model: str = "all-MiniLM-L6-v2") -> None:
        super().__init__(model, "remote", batch_size, spec=f"openai:{model}@{base_url}")
        self.base_url = base_url
        self.api_key = api_key
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.tokenizer_model = tokenizer_model
        self._dimension: int | None = None

    @property
    def model(self) -> Any:
        if self._model is None:
            from openai import OpenAI

            self._model = OpenAI(base_url=self.base_url, api_key=self.api_key or "unused",
                                 timeout=self.timeout_s, max_retries=self.max_retries)
        return self._model

    @property
    def tokenizer(self) -> Any:
        if self._tokenizer is None:
            local = Path(self.model_name).expanduser()
            source = str(local) if (local / "tokenizer.json").exists() else \
                resolve_model_path(self.tokenizer_model)
            self._tokenizer = LocalTokenizer(source)
        return self._tokenizer

    @property
    def dimension(self) -> int:
        if self._dimension is None:
            self._dimension = int(self.encode(["dimension"]).shape[1])
        return self._dimension

    def _post(self, batch: list[str]) -> list[list[float]]:
        import openai

        try:
            reply = self.model.embeddings.create(model=self.model_name, input=batch,
                                                 encoding_format="float")
        except openai.AuthenticationError:
            raise ConfigError(f"embedder {self.spec!r} rejected the key; set "
                              "HEMICYCLE_EMBEDDING_API_KEY") from None
        except openai.APIStatusError as exc:
            raise ProviderError(f"embedder {self.spec!r} failed after {self.max_retries} "
                                f"retries: HTTP {exc.status_code}") from None
        except openai.APIError as exc:  # connection errors and timeouts, after retries
            raise ProviderError(f"embedder {self.spec!r} failed after {self.max_retries} "
                                f"retries: {type(exc).__name__}") from None
        rows = sorted(reply.data, key=lambda item: item.index)
        if len(rows) != len(batch):
            raise ProviderError(f"embedder {self.spec!r} returned {len(rows)} vectors "
                                f"for {len(batch)} texts")
        return [row.embedding for row in rows]

    def encode(self, texts: Sequence[str]) -> Any:
        import numpy as np

        texts = list(texts)
        vectors: list[list[float]] = []
        for i in range(0, len(texts), self.batch_size):
            vectors.extend(self._post(texts[i: i + self.batch_size]))
        if not vectors:
            return np.zeros((0, self._dimension or 0), dtype=np.float32)
        out = normalize_rows(np.asarray(vectors, dtype=np.float32))
        self._dimension = out.shape[1]
        return out
