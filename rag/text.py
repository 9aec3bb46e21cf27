"""Sentence splitting and overlap scoring shared by the generators."""

from __future__ import annotations

import re

from .lexical import tokenize

__all__ = ["sentences", "best_sentence"]

_BOUNDARY = re.compile(r"(?<=[.!?…])([\"”’)]?)\s+(?=[\"“‘(]?[A-Z0-9À-Ý])|\n\s*\n")
_ABBREVIATION = re.compile(r"\b(?:Mr|Mrs|Ms|Dr|Prof|No|Nos|Art|Arts|para|e\.g|i\.e|cf|vs|St)\.$")


def sentences(text: str) -> list[str]:
    """Sentences of a passage, each an exact substring of it."""
    out: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        end = match.start() + len(match.group(1) or "")
        if _ABBREVIATION.search(text[start:end]):
            continue
        piece = text[start:end].strip()
        if piece:
            out.append(piece)
        start = match.end()
    tail = text[start:].strip()
    if tail:
        out.append(tail)
    return out


def best_sentence(passage: str, claim: str) -> str:
    """The passage sentence sharing most stemmed words with the claim (the passage if none)."""
    claim_terms = set(tokenize(claim))
    best, best_score = passage, 0.0
    for sentence in sentences(passage):
        terms = set(tokenize(sentence))
        if not terms:
            continue
        score = len(terms & claim_terms) / (len(terms) ** 0.5)
        if score > best_score:
            best, best_score = sentence, score
    return best
