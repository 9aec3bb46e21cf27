"""Query understanding: the speakers and political groups a question names.

They become ranking boosts, not hard filters ("What did Jutta Paulus say about REPowerEU?"
ranks Paulus's speeches first but still shows the rest), and are reported in the answer's
``filters`` line.  Names are matched against the speakers the index actually holds, without
accents and case; a surname alone counts when no other speaker has it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["QueryHints", "SpeakerMatcher", "fold", "understand"]

_NOT_NAMES = {"president", "chair", "le president", "la presidente", "presidente", "vorsitz"}


def fold(text: str) -> str:
    """Lower case without accents, for name matching."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@dataclass(frozen=True)
class QueryHints:
    speakers: tuple[str, ...] = ()
    parties: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        return bool(self.speakers or self.parties)

    def describe(self) -> str:
        parts = []
        if self.speakers:
            parts.append("speaker " + " or ".join(self.speakers))
        if self.parties:
            parts.append("group " + " or ".join(self.parties))
        return ", ".join(parts)


class SpeakerMatcher:
    """Finds the index's speaker names in a question (full name, or a surname unique to one
    speaker and at least four letters long)."""

    def __init__(self, names: Iterable[str]) -> None:
        self.full: dict[str, str] = {}
        surnames: dict[str, set[str]] = {}
        for name in names:
            folded = fold(name).strip()
            if not folded or folded in _NOT_NAMES or len(folded.split()) < 2:
                continue
            self.full[folded] = name
            last = folded.split()[-1]
            if len(last) >= 4:
                surnames.setdefault(last, set()).add(name)
        self.surname = {last: next(iter(n)) for last, n in surnames.items() if len(n) == 1}
        self._word = re.compile(r"[\w'-]+")

    def find(self, question: str) -> tuple[str, ...]:
        text = fold(question)
        found = [name for folded, name in self.full.items() if folded in text]
        if not found:
            words = set(self._word.findall(text))
            found = [name for last, name in self.surname.items() if last in words]
        return tuple(dict.fromkeys(found))


def understand(question: str, matcher: SpeakerMatcher | None,
               parties: Iterable[str] = ()) -> QueryHints:
    """The speakers and groups named in ``question`` (groups only those in ``parties``)."""
    from .conversation import groups_mentioned  # imported here: conversation imports Hit

    known = set(parties)
    groups = tuple(label for label in groups_mentioned(question)
                   if not known or label in known)
    speakers = matcher.find(question) if matcher is not None else ()
    return QueryHints(speakers=speakers, parties=groups)
