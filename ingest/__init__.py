"""Ingest: EU Debates records and verbatim-report documents → markdown → chunks → Chroma."""

from .embedder import Embedder
from .errors import ConfigError, HemicycleError, InputError, ProviderError, StoreError
from .pipeline import IngestReport, Ingestor, expand_paths, ingest_paths
from .schema import Chunk, Speech, chunk_metadata, normalize_party
from .settings import Settings
from .state import Manifest
from .store import describe_store, open_client, open_collection

__all__ = [
    "Chunk", "ConfigError", "Embedder", "HemicycleError", "IngestReport", "Ingestor",
    "InputError", "Manifest", "ProviderError", "Settings", "Speech", "StoreError",
    "chunk_metadata", "describe_store", "expand_paths", "ingest_paths", "normalize_party",
    "open_client", "open_collection",
]
