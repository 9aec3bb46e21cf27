"""BM25 over chunks with ``bm25s``: English stop words removed, Snowball-stemmed tokens.

The index is persisted under the collection's folder and rebuilt when an ingest changed the
corpus (the manifest's ``index_version`` tells); queries score every document once and the
caller masks by metadata, so filters cost one vector operation.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = ["tokenize", "Bm25Index"]

_WORD = re.compile(r"\w+", re.UNICODE)


@lru_cache(maxsize=1)
def _stemmer_and_stopwords() -> tuple[Any, frozenset[str]]:
    import Stemmer
    from bm25s.stopwords import STOPWORDS_EN

    return Stemmer.Stemmer("english"), frozenset(STOPWORDS_EN)


def tokenize(text: str) -> list[str]:
    stemmer, stopwords = _stemmer_and_stopwords()
    words = [w for w in _WORD.findall(text.lower()) if w not in stopwords]
    return stemmer.stemWords(words)


class Bm25Index:
    def __init__(self, model: Any) -> None:
        self.model = model
        self.vocab: dict[str, int] = model.vocab_dict

    @classmethod
    def build(cls, texts: Iterable[str]) -> Bm25Index:
        """Index texts, turning tokens into vocabulary ids as it goes (lists of ids that share
        the vocabulary's int objects cost a fraction of lists of token strings)."""
        import bm25s

        vocab: dict[str, int] = {"": 0}  # the empty token scores documents with no term
        ids = [[vocab.setdefault(t, len(vocab)) for t in tokenize(text)] or [0]
               for text in texts]
        model = bm25s.BM25()  # Lucene variant, k1=1.5, b=0.75
        model.index((ids, vocab), show_progress=False)
        return cls(model)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.model.save(str(folder))

    @classmethod
    def load(cls, folder: Path) -> Bm25Index:
        import bm25s

        return cls(bm25s.BM25.load(str(folder)))

    def scores(self, query: str) -> Any:
        """BM25 score of every document (numpy float32), zeros when no query term is known."""
        import numpy as np

        ids = [self.vocab[t] for t in tokenize(query) if t in self.vocab]
        if not ids:
            return np.zeros(self.model.scores["num_docs"], dtype=np.float32)
        return self.model.get_scores_from_ids(ids)
