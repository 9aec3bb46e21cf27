"""The objects the CLI and the Streamlit app share: settings, embedder, client, index and
generators (with their chat-model clients).

Built lazily and once per process; the UI caches them with ``st.cache_resource``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.embedder import Embedder
from ingest.errors import ConfigError
from ingest.settings import Settings

__all__ = ["Services", "load_settings"]


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment and .env, with explicit overrides; one-line errors."""
    from pydantic import ValidationError

    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "settings"
        raise ConfigError(f"invalid setting {where}: {first['msg']}") from None


@dataclass
class Services:
    settings: Settings
    _embedder: Embedder | None = field(default=None, repr=False)
    _client: Any = field(default=None, repr=False)
    _indexes: dict[str, Any] = field(default_factory=dict, repr=False)
    _generators: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            from ingest.embedders import make_embedder

            self._embedder = make_embedder(None, self.settings)
        return self._embedder

    @property
    def client(self) -> Any:
        if self._client is None:
            from ingest.store import open_client

            self._client = open_client(self.settings)
        return self._client

    def ingest(self, paths: Sequence[Path], collection: str | None = None,
               **options: Any) -> Any:
        """``ingest_paths``, then the search mirror (vectors + BM25) refreshed now rather than
        at the first query when the corpus changed; its time is part of the report."""
        from ingest.pipeline import ingest_paths

        report = ingest_paths(self.settings, paths, self.embedder, self.client, collection,
                              **options)
        if report.changed:
            started = time.perf_counter()
            self.index(collection)
            report.search_index_seconds = time.perf_counter() - started
            report.seconds += report.search_index_seconds
        return report

    def remove(self, collection: str | None = None, **selector: Any) -> Any:
        """``remove_speeches``, then the search mirror refreshed (as after an ingest)."""
        from ingest.remove import remove_speeches

        report = remove_speeches(self.settings, self.embedder, self.client, collection,
                                 **selector)
        self.index(collection)
        return report

    def index(self, collection: str | None = None, refresh: bool = True) -> Any:
        """The collection's in-memory mirror, reloaded when an ingest changed it."""
        from ingest.state import Manifest
        from rag.index import CorpusIndex

        name = collection or self.settings.collection
        cached = self._indexes.get(name)
        if cached is not None and refresh:
            manifest = Manifest(self.settings.state_path(name))
            try:
                current = manifest.get_meta("index_version") or "empty"
            finally:
                manifest.close()
            if current != cached.version:
                cached = None
        if cached is None:
            cached = self._indexes[name] = CorpusIndex.load(self.settings, self.client, name)
        return cached

    def retriever(self, collection: str | None = None) -> Any:
        from rag.retriever import Retriever

        return Retriever(self.index(collection), self.embedder)

    def generator(self, spec: str | None = None) -> Any:
        """One generator (and its chat model client) per spec, built on first use."""
        from rag.generators import make_generator

        spec = spec or self.settings.generator
        if spec not in self._generators:
            self._generators[spec] = make_generator(spec, self.settings, self.embedder)
        return self._generators[spec]

    def llm_search(self, generator: str | None = None, options: Any = None) -> Any:
        """The LLM steps around retrieval (rag.llmsearch), or None when they are off."""
        from rag.llmsearch import make_llm_search

        return make_llm_search(self.settings, generator or self.settings.generator, options)

    def assistant(self, generator: str | None = None, collection: str | None = None,
                  k: int | None = None, mode: str | None = None, search: Any = None) -> Any:
        """``search``: a ``rag.llmsearch.SearchOptions`` overriding the settings' LLM steps."""
        from rag.assistant import Assistant

        s = self.settings
        return Assistant(self.retriever(collection), self.generator(generator),
                         k=k or s.top_k, mode=mode or s.retriever,
                         refusal_threshold=s.refusal_threshold,
                         llm_search=self.llm_search(generator, search))
