"""Configuration, read once at the edge (CLI or Streamlit) and passed down.

Every setting can come from the environment (prefix ``HEMICYCLE_``) or a ``.env`` file.
All state lives under ``home`` (``HEMICYCLE_HOME``, default ``./data``).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "DEFAULT_EMBEDDING_MODEL", "DEFAULT_EMBEDDER"]

DEFAULT_EMBEDDING_MODEL = "all-MiniLM-L6-v2"
DEFAULT_EMBEDDER = "st:all-MiniLM-L6-v2"  # see the README, "Embedder backends"


class Settings(BaseSettings):
    """Hemicycle settings; see the README's configuration table."""

    model_config = SettingsConfigDict(
        env_prefix="HEMICYCLE_", env_file=".env", extra="ignore", populate_by_name=True
    )

    home: Path = Path("data")
    collection: str = "debates"

    # Embedding and chunking
    embedder: str | None = Field(None, description="backend spec (ingest/embedders.py); "
                                 "unset: st:EMBEDDING_MODEL, or the default")
    embedding_model: str = DEFAULT_EMBEDDING_MODEL  # the older setting, an alias of st:MODEL
    embedding_api_key: SecretStr | None = None
    embedding_device: str = "cpu"
    embedding_batch_size: int = Field(16, ge=1)
    chunk_tokens: int = Field(224, ge=32, description="word pieces per chunk, header excluded")
    chunk_overlap: int = Field(32, ge=0)
    ingest_flush_chunks: int = Field(1024, ge=1, description="chunks embedded per write batch")
    max_speech_chars: int = Field(100_000, ge=1_000)

    # Chroma server (unset host = embedded PersistentClient under home)
    chroma_host: str | None = None
    chroma_port: int = 8000
    chroma_ssl: bool = False

    # LLM providers
    groq_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("GROQ_API_KEY", "HEMICYCLE_GROQ_API_KEY")
    )
    groq_base_url: str | None = None
    groq_model: str = "llama-3.3-70b-versatile"
    openai_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("HEMICYCLE_OPENAI_API_KEY", "OPENROUTER_API_KEY")
    )
    llm_timeout_s: float = Field(60.0, gt=0)
    llm_max_retries: int = Field(4, ge=0)
    llm_rpm: int | None = Field(None, ge=1, description="requests/min (default: free tier)")
    llm_tpm: int | None = Field(None, ge=1, description="tokens/min (default: free tier)")
    llm_max_wait_s: float = Field(120.0, gt=0, description="a longer 429 wait stops the run")
    llm_max_output_tokens: int = Field(1024, ge=64)
    enrich_provider: str | None = None  # default: groq:llama-3.1-8b-instant with a key, else heuristic
    generator: str = "extractive"
    explore_namer: str | None = Field(None, description="LLM spec naming the map's clusters "
                                      "(unset: c-TF-IDF words only)")
    generators: list[str] = Field(default_factory=list,
                                  description="extra generator specs offered in the UI")

    # Retrieval
    retriever: str = "hybrid"
    top_k: int = Field(8, ge=1)
    refusal_threshold: float = 0.30
    dense_exact_rows: int = Field(40_000, ge=0, description="a filter keeping at most this "
                                  "many rows is scored on those rows only")
    dense_ann: bool = Field(False, description="past dense_exact_rows rows, take the dense "
                            "candidates from Chroma's HNSW index (approximate)")
    # LLM steps around retrieval (rag/llmsearch.py), all off by default
    search_llm: str | None = Field(None, description="LLM spec for the search steps; unset: "
                                   "the generator when it is an LLM")
    search_rewrite: bool = False
    search_queries: int = Field(0, ge=0, le=5, description="alternative queries (multi-query)")
    search_rerank: int = Field(0, ge=0, le=50, description="top-N reranked listwise by the LLM")

    @property
    def embedder_spec(self) -> str:
        if self.embedder:
            return self.embedder
        if self.embedding_model != DEFAULT_EMBEDDING_MODEL:
            return f"st:{self.embedding_model}"
        return DEFAULT_EMBEDDER

    def collection_dir(self, collection: str | None = None) -> Path:
        """Per-collection state: manifest, debate markdown, BM25 index."""
        return self.home / "collections" / (collection or self.collection)

    def state_path(self, collection: str | None = None) -> Path:
        return self.collection_dir(collection) / "state.sqlite"

    def markdown_dir(self, collection: str | None = None) -> Path:
        return self.collection_dir(collection) / "markdown"

    def bm25_dir(self, collection: str | None = None) -> Path:
        return self.collection_dir(collection) / "bm25"

    def rejects_path(self, collection: str | None = None) -> Path:
        return self.collection_dir(collection) / "rejects.jsonl"

    @property
    def chroma_dir(self) -> Path:
        return self.home / "chroma"

    @property
    def cache_dir(self) -> Path:
        return self.home / "cache"

    @property
    def reports_dir(self) -> Path:
        return self.home / "reports"
