"""Retrieval and answer generation over the ingested debates."""

from .filters import SearchFilters
from .index import ChunkRecord, CorpusIndex
from .retriever import MODES, HemicycleRetriever, Hit, Retriever

__all__ = ["MODES", "ChunkRecord", "CorpusIndex", "HemicycleRetriever", "Hit", "Retriever",
           "SearchFilters"]
