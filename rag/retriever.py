"""Dense, BM25 and hybrid retrieval over a ``CorpusIndex``, with metadata filters.

Hybrid, the default, fuses normalised dense and BM25 scores with the weights and boosts of
``rag.fusion`` (speakers and groups named in the question, procedural remarks ranked
down).  The top-k is
diversified by collapsing per speech: one speech contributes its best chunk, so five hits
are five speeches.  ``HemicycleRetriever`` exposes the same thing as a LangChain retriever.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from ingest.embedder import Embedder
from ingest.errors import InputError

from .filters import SearchFilters
from .fusion import DEFAULT_FUSION, Fusion, fuse, procedural_rows, query_language
from .index import ChunkRecord, CorpusIndex
from .query import QueryHints, SpeakerMatcher, understand

__all__ = ["Hit", "Retriever", "HemicycleRetriever", "MODES", "check_mode"]

Mode = Literal["dense", "bm25", "hybrid"]
MODES: tuple[str, ...] = ("dense", "bm25", "hybrid")


def check_mode(mode: str) -> None:
    if mode not in MODES:
        raise InputError(f"unknown retriever {mode!r}; choose one of {', '.join(MODES)}")


@dataclass(frozen=True)
class Hit:
    record: ChunkRecord
    score: float  # the ranking score of the mode (cosine, BM25 or fused, see rag.fusion)
    dense_score: float  # cosine similarity to the query, whatever the mode
    bm25_score: float
    rank: int

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self.record)
        data.update(score=round(self.score, 6), dense_score=round(self.dense_score, 6),
                    bm25_score=round(self.bm25_score, 6), rank=self.rank)
        return data


class Retriever:
    """Ranks chunks for a query; the embedder and the index are passed in."""

    def __init__(self, index: CorpusIndex, embedder: Embedder, depth: int = 100,
                 fusion: Fusion = DEFAULT_FUSION) -> None:
        from ingest.embedders import check_embedder

        check_embedder(index.embedder_spec, embedder.spec, index.name or "(unnamed)")
        self.index = index
        self.embedder = embedder
        self.depth = depth  # candidates taken from each side before fusion
        self.fusion = fusion
        self._matcher: SpeakerMatcher | None = None
        self._procedural: Any = None

    def hints(self, query: str) -> QueryHints:
        """The speakers and groups the query names (boosted by hybrid ranking)."""
        if self._matcher is None:
            self._matcher = SpeakerMatcher(self.index.speaker_names)
        return understand(query, self._matcher, self.index.parties)

    def scores(self, query: str, mode: str, filters: SearchFilters | None
               ) -> tuple[Any, Any, Any]:
        """Dense scores, BM25 scores (None for dense) and the allowed rows of every chunk."""
        import numpy as np

        check_mode(mode)
        if not query.strip():
            raise InputError("the query is empty")
        mask = self.index.mask(filters)
        vector = self.embedder.encode_query(query)
        dense = self.index.dense_scores(vector, mask, self.depth)
        lexical = self.index.bm25_scores(query) if mode != "dense" else None
        allowed = mask if mask is not None else np.ones(len(dense), dtype=bool)
        if lexical is not None and not self.index.dense.exact(mask):
            # the dense side scored its HNSW candidates only: BM25's get a cosine too
            self.index.dense.fill(dense, vector, _top(
                np.where(allowed & (lexical > 0), lexical, -np.inf), self.depth * 2))
        return dense, lexical, allowed

    def search(self, query: str, k: int = 10, mode: str = "hybrid",
               filters: SearchFilters | None = None, per_speech: int = 1) -> list[Hit]:
        if mode not in MODES:
            raise InputError(f"unknown retriever {mode!r}; choose one of {', '.join(MODES)}")
        if not query.strip():
            raise InputError("the query is empty")
        if len(self.index) == 0:
            return []
        dense, lexical, allowed = self.scores(query, mode, filters)
        return self.rank(query, mode, dense, lexical, allowed, k, per_speech)

    def rank(self, query: str, mode: str, dense: Any, lexical: Any, allowed: Any, k: int,
             per_speech: int = 1, fusion: Fusion | None = None) -> list[Hit]:
        """The top-k hits from precomputed scores (``fusion`` overrides the retriever's)."""
        import numpy as np

        if not allowed.any():
            return []
        if mode == "dense":
            ranking = _top(np.where(allowed, dense, -np.inf), self.depth * 2)
            scores = {i: float(dense[i]) for i in ranking}
        elif mode == "bm25":
            masked = np.where(allowed & (lexical > 0), lexical, -np.inf)
            ranking = _top(masked, self.depth * 2)
            scores = {i: float(lexical[i]) for i in ranking}
        else:
            fusion = fusion or self.fusion
            dense_rank = _top(np.where(allowed, dense, -np.inf), self.depth)
            lex_rank = _top(np.where(allowed & (lexical > 0), lexical, -np.inf), self.depth)
            candidates = np.array(sorted(set(dense_rank) | set(lex_rank)), dtype=np.int64)
            hints = self.hints(query)
            fused = fuse(candidates, dense, lexical, fusion, hints,
                         self._rows(self.index.speaker_code, self.index.speaker_names,
                                    hints.speakers),
                         self._rows(self.index.party_code, self.index.parties, hints.parties),
                         self._procedural_rows(fusion.short_words),
                         self._other_language(candidates, np.array(lex_rank, dtype=np.int64),
                                              lexical))
            scores = {int(i): float(s) for i, s in zip(candidates, fused)}
            ranking = sorted(scores, key=lambda i: (-scores[i], -dense[i]))
        hits: list[Hit] = []
        per: dict[str, int] = {}
        for i in ranking:
            record = self.index.records[i]
            if per.get(record.speech_id, 0) >= per_speech:
                continue
            per[record.speech_id] = per.get(record.speech_id, 0) + 1
            bm25 = float(lexical[i]) if lexical is not None else 0.0
            hits.append(Hit(record, scores[i], float(dense[i]), bm25, len(hits) + 1))
            if len(hits) >= k:
                break
        return hits


    def _other_language(self, candidates: Any, lexical_rows: Any, lexical: Any) -> Any:
        """With a multilingual embedder over a multilingual index: which candidates are in
        another language than the query's words (``rag.fusion.query_language``)."""
        if not self.embedder.multilingual or len(self.index.languages) < 2:
            return None
        language = query_language(lexical_rows, lexical, self.index.language_code)
        if language is None:
            return None
        return self.index.language_code[candidates] != language

    def _rows(self, codes: Any, labels: list[str], wanted: tuple[str, ...]) -> Any:
        import numpy as np

        if not wanted:
            return None
        return np.isin(codes, [i for i, label in enumerate(labels) if label in wanted])

    def _procedural_rows(self, short_words: int) -> Any:
        if self._procedural is None or self._procedural[0] != short_words:
            words = {sid: len(s.text.split()) for sid, s in self.index.speeches.items()}
            self._procedural = (short_words,
                                procedural_rows(self.index.records, words, short_words))
        return self._procedural[1]


def _top(values: Any, n: int) -> list[int]:
    """Indices of the n largest finite values, best first."""
    import numpy as np

    n = min(n, len(values))
    candidates = np.argpartition(-values, n - 1)[:n] if n < len(values) else np.arange(len(values))
    candidates = candidates[np.isfinite(values[candidates])]
    return [int(i) for i in candidates[np.argsort(-values[candidates], kind="stable")]]


class HemicycleRetriever(BaseRetriever):
    """LangChain retriever over the debates: ``invoke(query)`` returns cited Documents."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    retriever: Retriever
    k: int = 8
    mode: str = "hybrid"
    filters: SearchFilters | None = None

    def _get_relevant_documents(self, query: str, *,
                                run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        hits = self.retriever.search(query, k=self.k, mode=self.mode, filters=self.filters)
        docs = []
        for hit in hits:
            meta = hit.to_dict()
            text = meta.pop("text")
            docs.append(Document(page_content=text, metadata=meta, id=hit.record.chunk_id))
        return docs
