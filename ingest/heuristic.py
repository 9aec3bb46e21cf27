"""The offline extractor (``heuristic``): no key, no network, marked provider=heuristic.

- Claims: statements (not questions) of six words or more, ranked by argument markers
  ("we must", "I call on", "because", "this will", numbers, named proposals...) plus
  centrality (cosine of the sentence to the mean of the speech's sentences, with the
  embedder), sentences opening with a form of address last; the top three are the claims,
  each quoting itself (no paraphrase: the "claim" is the sentence).
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

HEURISTIC_VERSION = "heuristic-v2"

_MARKERS = re.compile(
    r"\b(we must|must|should|need to|i call on|we call on|because|therefore|this will|will "
    r"lead|will cost|cannot|we demand|i urge|i support|we support|oppose|reject|proposal|"
    r"regulation|directive|act|agreement|fund|percent|per cent|billion|million|tonnes|"
    r"il faut|nous devons|wir müssen|muss|debemos|dobbiamo|musimy)\b|\d", re.IGNORECASE)
_FOR = re.compile(
    r"\b(i (?:fully |strongly )?support|we (?:fully |strongly )?support|supports?|will support|"
    r"welcome[sd]?|vote (?:in favour|for)|in favour of|stands? behind|"
    r"(?:is|are) (?:a )?(?:good|right|necessary|important) (?:start|step|deal|agreement|"
    r"proposal|law)|long overdue|let us (?:adopt|agree|give)|we back|i back|applaud|endorse|"
    r"a step in the right direction|will vote yes|soutenons|soutiens|begrüßen|unterstützen|"
    r"apoyamos|sosteniamo|popieramy)\b", re.IGNORECASE)
_AGAINST = re.compile(
    r"\b(oppose[sd]?|reject(?:s|ed)?|vote against|vote no|against (?:this|the|any) (?:deal|"
    r"agreement|proposal|regulation|resolution|text|pact|files?)|unacceptable|cannot "
    r"(?:support|vote for|accept)|will not (?:support|vote for|accept)|scandal|disaster|"
    r"betray(?:al|s)?|must be stopped|surrender|we say no|refuse its consent|"
    r"invasion|socialism|colonialism|rejetons|refusons|lehnen|ablehnen|rechazamos|"
    r"respingiamo|sprzeciwiamy)\b", re.IGNORECASE)
_MIXED = re.compile(r"\b(?:yes|oui|ja|sí|sì|tak)\s*[,;:]\s*[^.!?]{0,120}[.!?]?\s*[^.!?]{0,120}?"
                    r"\b(?:no|non|nein|nie)\s*[.!]", re.IGNORECASE)
_PROCEDURAL = re.compile(
    r"\b(the debate is closed|the next item|i give the floor|the vote will take place|"
    r"point of order|the sitting is|written statements?)\b", re.IGNORECASE)
_SALUTATION = re.compile(r"^(?:madam|mr|mister|monsieur|frau|herr|señora|señor|signora|signor|"
                         r"pani|panie)\b", re.IGNORECASE)
_EXECUTIVE = ("commission", "council", "high representative", "minister")


def heuristic_stance(text: str, role: str) -> str:
    """for / against / mixed / neutral / procedural from cue phrases and the speaker's role
    (the Commission and the Council present and defend the file: ``for`` without cues)."""
    low_role = role.lower()
    if low_role in ("chair", "president") or (len(text) < 400 and _PROCEDURAL.search(text)):
        return "procedural"
    if _MIXED.search(text):
        return "mixed"
    pro, con = len(_FOR.findall(text)), len(_AGAINST.findall(text))
    if pro and con:
        return "for" if pro >= 2 * con else "against" if con >= 2 * pro else "mixed"
    if pro or con:
        return "for" if pro else "against"
    return "for" if any(word in low_role for word in _EXECUTIVE) else "neutral"


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

        spans = [(a, b) for a, b in sentence_spans(speech.text)  # statements, not questions
                 if len(speech.text[a:b].split()) >= 6 and not speech.text[a:b].endswith("?")]
        stance = heuristic_stance(speech.text, speech.role)
        claims: list[ClaimOut] = []
        if spans and stance != "procedural":
            texts = [speech.text[a:b] for a, b in spans]
            vectors = self.embedder.encode(texts)
            centre = vectors.mean(axis=0)
            centrality = vectors @ (centre / (np.linalg.norm(centre) or 1.0))
            markers = np.array([min(len(_MARKERS.findall(t)), 4) for t in texts])
            opening = np.array([bool(_SALUTATION.match(t)) for t in texts])
            score = centrality + 0.08 * markers - 0.3 * opening  # "Madam President, ..." last
            best = sorted(np.argsort(-score)[: self.claims])
            claims = [ClaimOut(claim=texts[i], quote=texts[i]) for i in best]
        return Extraction(claims=claims, stance=stance,
                          topics=self._topics(speech.debate_title, speech.text))
