"""Chroma access: an embedded ``PersistentClient`` under HEMICYCLE_HOME, or a server.

When ``HEMICYCLE_CHROMA_HOST`` is set the same code talks to ``chroma run`` over HTTP.
Errors from Chroma become one-line ``StoreError`` messages.
"""

from __future__ import annotations

from typing import Any

from .errors import StoreError
from .settings import Settings

__all__ = ["open_client", "open_collection", "describe_store", "record_embedder"]


def describe_store(settings: Settings) -> str:
    if settings.chroma_host:
        scheme = "https" if settings.chroma_ssl else "http"
        return f"Chroma server {scheme}://{settings.chroma_host}:{settings.chroma_port}"
    return f"Chroma index at {settings.chroma_dir}"


def open_client(settings: Settings) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    try:
        if settings.chroma_host:
            client = chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port,
                                         ssl=settings.chroma_ssl, settings=chroma_settings)
            client.heartbeat()
            return client
        if settings.chroma_dir.exists() and not settings.chroma_dir.is_dir():
            raise StoreError(f"cannot open {describe_store(settings)}: not a directory")
        settings.chroma_dir.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(settings.chroma_dir), settings=chroma_settings)
    except StoreError:
        raise
    except Exception as exc:  # chromadb raises ValueError, ConnectionError, RustBindingsAPIError…
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        verb = "reach" if settings.chroma_host else "open"
        raise StoreError(f"cannot {verb} {describe_store(settings)}: {reason}") from None


def open_collection(client: Any, name: str, create: bool = True,
                    embedder: str | None = None) -> Any:
    """The chunk collection (cosine space, embeddings supplied by us).  A new collection
    records the embedder spec in its metadata (an existing one keeps its own)."""
    try:
        if create:
            metadata = {"hnsw:space": "cosine", **({"embedder": embedder} if embedder else {})}
            return client.get_or_create_collection(
                name, metadata=metadata, embedding_function=None)
        return client.get_collection(name, embedding_function=None)
    except Exception as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise StoreError(f"cannot open collection {name!r}: {reason}") from None


def record_embedder(collection: Any, spec: str, dimension: int) -> None:
    """Write the embedder spec and vector dimension into the collection's metadata, once
    (``modify`` replaces the metadata; the cosine space stays in the configuration)."""
    metadata = dict(collection.metadata or {})
    if metadata.get("embedder") == spec and metadata.get("dimension") == dimension:
        return
    metadata.pop("hnsw:space", None)  # cannot be changed once created, and is kept anyway
    collection.modify(metadata={**metadata, "embedder": spec, "dimension": dimension})
