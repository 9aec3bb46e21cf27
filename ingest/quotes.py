"""Locating a claimed quote in the speech it is said to come from, with exact offsets.

1. exact substring;
2. after normalising both sides (case, whitespace runs, typographic quote marks and
   apostrophes, dashes), with a map from every normalised character back to the speech;
3. fuzzy alignment (``rapidfuzz.fuzz.partial_ratio_alignment`` on the normalised texts),
   accepted only at or above ``FUZZY_THRESHOLD`` (0–100) and for quotes of at least
   ``MIN_FUZZY_CHARS`` characters, then widened to whole words.
Whatever matched, the quote kept is the exact text of the speech at that span (so a
repaired quote is verbatim); a quote that cannot be located is dropped by the caller.
Offsets are Python string indices (code points), right for any script.

``sentence_spans`` splits a text on sentence boundaries with offsets, used to cut long
speeches into parts and by the heuristic extractor.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Located", "locate", "normalise", "sentence_spans", "split_parts",
           "FUZZY_THRESHOLD", "MIN_QUOTE_CHARS"]

FUZZY_THRESHOLD = 90.0
MIN_QUOTE_CHARS = 12
MIN_FUZZY_CHARS = 30

_QUOTES = dict.fromkeys(map(ord, "“”„‟«»″\"〝〞＂"), '"') | dict.fromkeys(map(ord, "‘’‚‛‹›′`´'"), "'")
_DASHES = dict.fromkeys(map(ord, "‐‑‒–—―−﹘﹣－"), "-")
_SPACE = re.compile(r"\s")


@dataclass(frozen=True)
class Located:
    start: int  # in the searched text
    end: int
    match: str  # exact | normalised | fuzzy
    score: float


def normalise(text: str) -> tuple[str, list[int]]:
    """Normalised text and, per normalised character, its index in ``text``."""
    out: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        if _SPACE.match(ch):
            if out and out[-1] == " ":
                continue
            out.append(" ")
            where.append(i)
            continue
        mapped = _QUOTES.get(ord(ch)) or _DASHES.get(ord(ch)) or ch.lower()
        for piece in mapped:  # lower() can lengthen a character (İ → i̇)
            out.append(piece)
            where.append(i)
    return "".join(out), where


def _span(where: list[int], text: str, start: int, end: int) -> tuple[int, int]:
    a = where[start]
    b = where[end - 1] + 1
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    return a, b


def locate(quote: str, text: str) -> Located | None:
    """Where ``quote`` is in ``text``, or None (too short, or not found above the threshold)."""
    quote = quote.strip().strip('"“”„«»').strip()
    if len(quote) < MIN_QUOTE_CHARS:
        return None
    at = text.find(quote)
    if at >= 0:
        return Located(at, at + len(quote), "exact", 100.0)
    norm_text, where = normalise(text)
    norm_quote = normalise(quote)[0].strip()
    at = norm_text.find(norm_quote)
    if at >= 0:
        start, end = _span(where, text, at, at + len(norm_quote))
        return Located(start, end, "normalised", 100.0)
    if len(norm_quote) < MIN_FUZZY_CHARS:
        return None
    from rapidfuzz import fuzz

    found = fuzz.partial_ratio_alignment(norm_quote, norm_text, score_cutoff=FUZZY_THRESHOLD)
    if found is None or found.dest_end <= found.dest_start:
        return None
    s, e = found.dest_start, found.dest_end
    while s > 0 and norm_text[s - 1].isalnum():  # whole words only
        s -= 1
    while e < len(norm_text) and norm_text[e].isalnum():
        e += 1
    start, end = _span(where, text, s, e)
    return Located(start, end, "fuzzy", round(found.score, 1))


_SENTENCE_END = re.compile(r"(?<=[.!?…;])[\"'”’»)]*\s+(?=[\"'“‘«(]*[A-ZÀ-ÖØ-ÞĀ-ſΑ-ΩА-Я0-9])|\n\s*\n")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence: split after . ! ? … ; before a capital, and at blank
    lines; whitespace around sentences is left out."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(text)))
    out = []
    for a, b in spans:
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if b > a:
            out.append((a, b))
    return out


def split_parts(text: str, max_chars: int) -> list[tuple[int, int]]:
    """Consecutive spans of whole sentences, each at most ``max_chars`` long (a single longer
    sentence is its own part), covering the text."""
    if len(text) <= max_chars:
        return [(0, len(text))]
    parts: list[tuple[int, int]] = []
    start = end = None
    for a, b in sentence_spans(text):
        if start is None:
            start, end = a, b
        elif b - start > max_chars:
            parts.append((start, end))
            start, end = a, b
        else:
            end = b
    if start is not None:
        parts.append((start, end))
    return parts
