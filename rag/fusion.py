"""How the default (hybrid) retriever combines BM25 and dense scores.

On real debates MiniLM ranks worse than BM25 and reciprocal-rank fusion let it drag the
good BM25 ranking down (``data/eval/real-questions.jsonl``).  The fusion here is a convex
combination of the two scores, each min-max normalised over the candidates (the top
``depth`` of each side), with BM25 weighted by ``bm25_weight``; then three adjustments:

- a speaker or group the question names (``rag.query``) multiplies the score of that
  speaker's / group's chunks by ``1 + speaker_boost`` / ``1 + party_boost``;
- the chair's remarks and speeches shorter than ``short_words`` words are multiplied by
  ``procedural_factor`` (procedure and one-liners rarely answer a question).

Scores are therefore on one scale, 0 to about 1.6.  The defaults are the weights 5-fold
cross-validation chose on every fold of the real-debate gold set (``hemicycle eval retrieval
--gold data/eval/real-questions.jsonl --cv 5``); they are also the best of the candidates
tried on the sample gold set (see the README).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .query import QueryHints, fold

__all__ = ["Fusion", "DEFAULT_FUSION", "fuse", "procedural_rows", "query_language"]

_CHAIR = {"president", "le president", "la presidente", "presidente", "chair"}


@dataclass(frozen=True)
class Fusion:
    bm25_weight: float = 0.5
    speaker_boost: float = 0.0  # fitted to 0: BM25 already matches the speaker header
    party_boost: float = 0.6
    procedural_factor: float = 0.5
    short_words: int = 60


DEFAULT_FUSION = Fusion()


def procedural_rows(records: Any, speech_words: dict[str, int], short_words: int) -> Any:
    """Boolean per chunk: the chair speaking, or a speech shorter than ``short_words``."""
    import numpy as np

    chair: dict[tuple[str, str], bool] = {}  # folded once per (speaker, role), not per chunk

    def is_chair(speaker: str, role: str) -> bool:
        if (speaker, role) not in chair:
            chair[speaker, role] = fold(speaker) in _CHAIR or fold(role) in _CHAIR
        return chair[speaker, role]

    return np.array([is_chair(r.speaker, r.role) or
                     speech_words.get(r.speech_id, len(r.text.split())) < short_words
                     for r in records], dtype=bool)


def query_language(candidates: Any, lexical: Any, language_code: Any) -> int | None:
    """The language (code) the query's words match in: the one whose passages among the
    lexical candidates hold most of the BM25 score (None when nothing matched).

    Read from the corpus rather than guessed from the question: lingua's fast mode put 5 of
    22 short English queries in another language ("artificial intelligence act biometric
    surveillance" in French, confidence 1.0), and its accurate mode takes 10 s and 700 MB
    to load."""
    import numpy as np

    weights = lexical[candidates].astype(np.float64)
    if not len(candidates) or weights.max() <= 0:
        return None
    return int(np.argmax(np.bincount(language_code[candidates], weights=weights)))


def fuse(candidates: Any, dense: Any, lexical: Any, fusion: Fusion, hints: QueryHints,
         speaker_rows: Any, party_rows: Any, procedural: Any,
         other_language: Any = None) -> Any:
    """Fused scores of the ``candidates`` rows (numpy index array), same order.

    ``other_language`` (bool per candidate, with a multilingual embedder only) marks
    passages in another language than the query's words: BM25 cannot match them, so their
    score is the dense side alone instead of being held down by a lexical zero."""
    import numpy as np

    def scaled(values: Any) -> Any:
        low, high = float(values.min()), float(values.max())
        return (values - low) / (high - low) if high > low else np.ones_like(values)

    d = scaled(dense[candidates].astype(np.float64))
    b = lexical[candidates].astype(np.float64)
    b = b / b.max() if b.max() > 0 else np.zeros_like(b)
    score = fusion.bm25_weight * b + (1.0 - fusion.bm25_weight) * d
    if other_language is not None:
        score = np.where(other_language, d, score)
    if hints.speakers and speaker_rows is not None:
        score = score * np.where(speaker_rows[candidates], 1.0 + fusion.speaker_boost, 1.0)
    if hints.parties and party_rows is not None:
        score = score * np.where(party_rows[candidates], 1.0 + fusion.party_boost, 1.0)
    if procedural is not None:
        score = score * np.where(procedural[candidates], fusion.procedural_factor, 1.0)
    return score
