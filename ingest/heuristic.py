"""The offline extractor (``heuristic``): no key, no network, marked provider=heuristic.

- Claims: sentences with argument markers ("we must", "I call on", "because", "this will",
  numbers, named proposals...) ranked by marker count plus centrality (cosine of the
  sentence to the mean of the speech's sentences, with the embedder); the top three are
  the claims, each quoting itself (no paraphrase: the "claim" is the sentence).
- Stance: cue phrases for and against (English, and a few words in French, German,
  Spanish, Italian, Polish); chair and procedural speeches are ``procedural``.
- Topics: the controlled topics whose descriptions are closest to the debate title plus the
  speech's opening (the best, and up to two more within a margin of it).
It cannot read irony, conditional support ("yes, but"), or speeches that argue by
narrative without cue words; its stance accuracy is measured in the README.
"""

from __future__ import annotations

import re
from typing import Any

from .arguments import TOPICS, ClaimOut, Extraction
from .quotes import sentence_spans

__all__ = ["HeuristicExtractor", "HEURISTIC_VERSION", "heuristic_stance"]

HEURISTIC_VERSION = "heuristic-v1"

_MARKERS = re.compile(
    r"\b(we must|must|should|need to|i call on|we call on|because|therefore|this will|will "
    r"lead|will cost|cannot|we demand|i urge|i support|we support|oppose|reject|proposal|"
    r"regulation|directive|act|agreement|fund|percent|per cent|billion|million|tonnes|"
    r"il faut|nous devons|wir müssen|muss|debemos|dobbiamo|musimy)\b|\d", re.IGNORECASE)
_FOR = re.compile(
    r"\b(i (?:fully |strongly )?support|we (?:fully |strongly )?support|welcome[sd]?|"
    r"vote (?:in favour|for)|in favour of|(?:is|are) (?:a )?(?:good|right|necessary|important) "
    r"(?:step|deal|agreement|proposal|law)|long overdue|let us adopt|we back|i back|"
    r"applaud|endorse|a step in the right direction|will vote yes|soutenons|soutiens|"
    r"begrüßen|unterstützen|apoyamos|sosteniamo|popieramy)\b", re.IGNORECASE)
_AGAINST = re.compile(
    r"\b(oppose[sd]?|reject(?:s|ed)?|vote against|against (?:this|the) (?:deal|agreement|"
    r"proposal|regulation|text)|unacceptable|cannot support|will not support|scandal|"
    r"disaster|betray(?:al|s)?|must be stopped|must stop|withdraw|strangl\w*|surrender|"
    r"dangerous|we say no|will vote no|rejetons|refusons|lehnen|ablehnen|rechazamos|"
    r"respingiamo|sprzeciwiamy)\b", re.IGNORECASE)
_PROCEDURAL = re.compile(
    r"\b(the debate is closed|the next item|i give the floor|the vote will take place|"
    r"point of order|blue[- ]card|the sitting is|written statements?)\b", re.IGNORECASE)


def heuristic_stance(text: str, role: str) -> str:
    """for / against / mixed / neutral / procedural from cue phrases and the speaker's role."""
    if role.lower() in ("chair", "president") or (len(text) < 400 and _PROCEDURAL.search(text)):
        return "procedural"
    pro, con = len(_FOR.findall(text)), len(_AGAINST.findall(text))
    if pro and con:
        return "for" if pro >= 2 * con else "against" if con >= 2 * pro else "mixed"
    return "for" if pro else "against" if con else "neutral"


class HeuristicExtractor:
    name = "heuristic"
    prompt_version = HEURISTIC_VERSION

    def __init__(self, embedder: Any, claims: int = 3) -> None:
        self.embedder = embedder
        self.claims = claims
        self._topic_vectors: Any = None

    def _topics(self, title: str, text: str) -> list[str]:
        import numpy as np

        if self._topic_vectors is None:
            labels = [t for t in TOPICS if t != "other"]
            self._topic_labels = labels
            self._topic_vectors = self.embedder.encode(
                [f"{t}: {TOPICS[t]}" for t in labels])
        vector = self.embedder.encode([f"{title}. {text[:600]}"])[0]
        scores = self._topic_vectors @ vector
        order = np.argsort(-scores)
        best = float(scores[order[0]])
        if best < 0.15:
            return ["other"]
        return [self._topic_labels[i] for i in order[:3] if scores[i] >= best - 0.05]

    def extract(self, speech: Any) -> Extraction:
        import numpy as np

        spans = [(a, b) for a, b in sentence_spans(speech.text)
                 if len(speech.text[a:b].split()) >= 6]
        stance = heuristic_stance(speech.text, speech.role)
        claims: list[ClaimOut] = []
        if spans and stance != "procedural":
            texts = [speech.text[a:b] for a, b in spans]
            vectors = self.embedder.encode(texts)
            centre = vectors.mean(axis=0)
            centrality = vectors @ (centre / (np.linalg.norm(centre) or 1.0))
            markers = np.array([min(len(_MARKERS.findall(t)), 4) for t in texts])
            score = centrality + 0.08 * markers
            best = sorted(np.argsort(-score)[: self.claims])
            claims = [ClaimOut(claim=texts[i], quote=texts[i]) for i in best]
        return Extraction(claims=claims, stance=stance,
                          topics=self._topics(speech.debate_title, speech.text))
