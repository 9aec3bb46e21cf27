"""Comparison questions: "EPP vs Greens on X", "how did the groups differ on Y".

A comparison has *sides*: the groups it names (two or more), or, when it names none but asks
how groups differed, the groups among the sources.  Retrieval then gives each named group its
own share of the sources (:func:`balanced_search`), and the extractive answer quotes each side
under its own heading.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from .conversation import groups_mentioned

__all__ = ["is_comparison", "named_sides", "balanced_search", "asks_for_groups", "group_slots"]

_COMPARE = re.compile(
    r"\b(?:differ(?:ed|ence|ences|ent)?|compar(?:e|ed|ing|ison)|versus|vs\.?|contrast(?:ed)?|"
    r"disagree(?:d|ment)?|divided|split|for\s+and\s+against|both\s+sides)\b", re.IGNORECASE)
_WHO = re.compile(
    r"\b(?:who|which\s+(?:MEPs?|members|speakers|groups|parties))\b.{0,60}?\b(?:oppos\w*|support\w*|"
    r"against|favou?r\w*|criticis\w*|criticiz\w*|object\w*|reject\w*|back\w*|welcom\w*|"
    r"defend\w*)\b", re.IGNORECASE)
_GROUPS = re.compile(r"\b(?:groups?|parties|political\s+families|sides|camps)\b", re.IGNORECASE)


def is_comparison(question: str) -> bool:
    """The question asks how groups differ: it names two or more, or it speaks of groups
    (or sides) with a word of comparison ("what comparison did X make" is not one)."""
    return len(groups_mentioned(question)) >= 2 or bool(
        _COMPARE.search(question) and _GROUPS.search(question))


def named_sides(question: str) -> tuple[str, ...]:
    """The groups a comparison question names (empty when it names fewer than two)."""
    named = groups_mentioned(question)
    return named if len(named) >= 2 else ()


def balanced_search(retriever: Any, query: str, k: int, mode: str, filters: Any,
                    per_speech: int, sides: Sequence[str]) -> list[Any]:
    """Hits for each side in turn (k split evenly), interleaved by rank and renumbered."""
    from .retriever import Hit

    share = max(2, -(-k // len(sides)))
    per_side = [retriever.search(query, k=share, mode=mode, per_speech=per_speech,
                                 filters=replace(filters, parties=(side,))) for side in sides]
    merged: list[Hit] = []
    for position in range(share):
        for hits in per_side:
            if position < len(hits) and len(merged) < k:
                merged.append(hits[position])
    return [replace(hit, rank=i + 1) for i, hit in enumerate(merged)]


def asks_for_groups(question: str) -> bool:
    """The question wants the spread of positions: a comparison, or "who opposed / supported
    X" (the answer is every side, not the single best-matching speech)."""
    return is_comparison(question) or bool(_WHO.search(question))


def group_slots(hits: Sequence[Any], k: int, debates: int = 2) -> list[Any]:
    """The top ``k`` of a deeper ranking, with one slot kept for every political group that
    spoke in the debate(s) of the best ``debates`` hits (its best passage there); the other
    slots by rank.  The chair and speakers without a group take no group slot."""
    from .claims import is_chair

    if not hits:
        return []
    wanted = {h.record.debate_id for h in hits[:debates]}
    slots: dict[str, Any] = {}
    for hit in hits:
        r = hit.record
        if r.party and r.party not in slots and r.debate_id in wanted and \
                not is_chair(r.speaker, r.role):
            slots[r.party] = hit
    kept = sorted(slots.values(), key=lambda h: h.rank)[:k]
    taken = {h.record.chunk_id for h in kept}
    kept += [h for h in hits if h.record.chunk_id not in taken][:k - len(kept)]
    return [replace(hit, rank=i + 1) for i, hit in enumerate(sorted(kept, key=lambda h: h.rank))]
