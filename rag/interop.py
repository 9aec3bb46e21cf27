"""LangChain interop: any Hemicycle embedder as a LangChain ``Embeddings``, and a collection
as a ``langchain_chroma.Chroma`` vector store, so a user's own LCEL chain can use the index.

The vector store queries Chroma's own HNSW index with the collection's embedder (checked
against the one it was built with); Hemicycle's ``Retriever`` (hybrid, filters, one hit per
speech) is the LangChain retriever ``rag.retriever.HemicycleRetriever``.
"""

from __future__ import annotations

from typing import Any

from langchain_core.embeddings import Embeddings

from ingest.embedder import Embedder
from ingest.settings import Settings

__all__ = ["HemicycleEmbeddings", "as_langchain", "open_vectorstore"]


class HemicycleEmbeddings(Embeddings):
    """A LangChain ``Embeddings`` over any backend (queries get the backend's query form,
    e.g. E5's ``query:`` prefix)."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embedder.encode(texts).tolist() if texts else []

    def embed_query(self, text: str) -> list[float]:
        return self.embedder.encode_query(text).tolist()


def as_langchain(embedder: Embedder) -> HemicycleEmbeddings:
    return HemicycleEmbeddings(embedder)


def open_vectorstore(settings: Settings, client: Any, embedder: Embedder,
                     collection: str | None = None) -> Any:
    """The collection as a ``langchain_chroma.Chroma`` (documents are chunk texts, metadata
    the chunk's speaker, party, date, debate and speech ids)."""
    from langchain_chroma import Chroma

    from ingest.embedders import LEGACY_SPEC, check_embedder
    from ingest.state import Manifest

    name = collection or settings.collection
    manifest = Manifest(settings.state_path(name))
    try:
        recorded = manifest.get_meta("embedder") or (
            LEGACY_SPEC if manifest.chunk_count() else None)
    finally:
        manifest.close()
    check_embedder(recorded, embedder.spec, name)
    return Chroma(collection_name=name, embedding_function=as_langchain(embedder),
                  client=client, create_collection_if_not_exists=False)
