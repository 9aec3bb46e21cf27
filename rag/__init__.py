"""Retrieval and answer generation over the ingested debates."""

from .filters import SearchFilters
from .index import ChunkRecord, CorpusIndex
from .interop import HemicycleEmbeddings, as_langchain, open_vectorstore
from .retriever import MODES, HemicycleRetriever, Hit, Retriever

__all__ = ["MODES", "ChunkRecord", "CorpusIndex", "HemicycleEmbeddings", "HemicycleRetriever",
           "Hit", "Retriever", "SearchFilters", "as_langchain", "open_vectorstore"]
