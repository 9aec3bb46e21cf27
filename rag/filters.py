"""Metadata filters, applied identically to the dense and lexical sides of retrieval."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ingest.errors import InputError
from ingest.schema import normalize_party

__all__ = ["SearchFilters", "parse_date"]


def parse_date(value: str | dt.date | None, name: str) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value.strip()[:10])
    except ValueError:
        raise InputError(f"{name}: expected a date as YYYY-MM-DD, got {value!r}") from None


@dataclass(frozen=True)
class SearchFilters:
    """Groups (any of), speakers (any of, case-insensitive substring), date range, debate."""

    parties: tuple[str, ...] = ()
    speakers: tuple[str, ...] = ()
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    debates: tuple[str, ...] = ()  # debate ids or case-insensitive substrings of titles
    extra: tuple[tuple[str, Any], ...] = field(default=())  # exact metadata matches
    stances: tuple[str, ...] = ()  # extracted stance (any of), see ingest.enrich
    topics: tuple[str, ...] = ()  # extracted topic (any of)

    @classmethod
    def build(cls, parties: Iterable[str] = (), speakers: Iterable[str] = (),
              date_from: str | dt.date | None = None, date_to: str | dt.date | None = None,
              debates: Iterable[str] = (), stances: Iterable[str] = (),
              topics: Iterable[str] = ()) -> SearchFilters:
        from ingest.arguments import STANCES, TOPICS

        stance_set = tuple(dict.fromkeys(s.strip().lower() for s in stances if s.strip()))
        topic_set = tuple(dict.fromkeys(t.strip().lower() for t in topics if t.strip()))
        for value in stance_set:
            if value not in STANCES:
                raise InputError(f"--stance {value!r}: use one of {', '.join(STANCES)}")
        for value in topic_set:
            if value not in TOPICS:
                raise InputError(f"--topic {value!r}: use one of {', '.join(TOPICS)}")
        start, end = parse_date(date_from, "--date-from"), parse_date(date_to, "--date-to")
        if start and end and start > end:
            raise InputError(f"--date-from {start} is after --date-to {end}")
        return cls(
            parties=tuple(dict.fromkeys(normalize_party(p) for p in parties if p.strip())),
            speakers=tuple(s.strip() for s in speakers if s.strip()),
            date_from=start, date_to=end,
            debates=tuple(d.strip() for d in debates if d.strip()),
            stances=stance_set, topics=topic_set,
        )

    @property
    def active(self) -> bool:
        return bool(self.parties or self.speakers or self.date_from or self.date_to
                    or self.debates or self.extra or self.stances or self.topics)

    def matches_speaker(self, name: str) -> bool:
        low = name.lower()
        return any(s.lower() in low for s in self.speakers)

    def matches_debate(self, debate_id: str, title: str) -> bool:
        low = title.lower()
        return any(d == debate_id or d.lower() in low for d in self.debates)

    def describe(self) -> str:
        parts: list[str] = []
        if self.parties:
            parts.append("group " + " or ".join(self.parties))
        if self.speakers:
            parts.append("speaker " + " or ".join(self.speakers))
        if self.date_from or self.date_to:
            parts.append(f"dates {self.date_from or '…'} to {self.date_to or '…'}")
        if self.debates:
            parts.append("debate " + " or ".join(self.debates))
        if self.stances:
            parts.append("stance " + " or ".join(self.stances))
        if self.topics:
            parts.append("topic " + " or ".join(self.topics))
        return ", ".join(parts) or "no filters"

    def chroma_where(self, speaker_names: Sequence[str], debate_ids: Sequence[str]
                     ) -> dict[str, Any] | None:
        """The same filter as a Chroma ``where`` clause (names already resolved)."""
        clauses: list[dict[str, Any]] = []
        if self.parties:
            clauses.append({"party": {"$in": list(self.parties)}})
        if self.speakers:
            clauses.append({"speaker": {"$in": list(speaker_names) or ["\x00"]}})
        if self.debates:
            clauses.append({"debate_id": {"$in": list(debate_ids) or ["\x00"]}})
        if self.date_from:
            clauses.append({"date_int": {"$gte": int(self.date_from.strftime("%Y%m%d"))}})
        if self.date_to:
            clauses.append({"date_int": {"$lte": int(self.date_to.strftime("%Y%m%d"))}})
        clauses.extend({key: value} for key, value in self.extra)
        if self.stances:
            clauses.append({"stance": {"$in": list(self.stances)}})
        if self.topics:
            topic_keys = [{"topic_" + t.replace(" ", "_"): True} for t in self.topics]
            clauses.append(topic_keys[0] if len(topic_keys) == 1 else {"$or": topic_keys})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}
