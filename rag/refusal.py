"""Refusal checks that use what the corpus knows, run before any generator.

A cosine threshold alone cannot tell "What did Angela Merkel say about frozen assets?" from
an answerable question: the topic is in the corpus, the person is not.  Each check returns a
``Refusal`` naming itself, or None:

- ``absent-speaker``: the question asks what a named person said, and nobody of that name
  spoke ("X did not speak in these debates; N speeches mention X");
- ``absent-group``: it names a political group with no speech in the corpus (ID, Brexit
  Party... in the 10th term);
- ``outside-dates``: it asks about a debate or a month outside the corpus's dates;
- ``vote-count`` / ``missing-number``: it asks for a vote count, or for an amount of money
  or of a unit, and no retrieved passage holds a number of that kind;
- ``missing-terms``: a capitalised name, or half or more of the question's content terms,
  occurs nowhere in the corpus.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from .conversation import groups_mentioned
from .index import CorpusIndex
from .lexical import tokenize
from .query import SpeakerMatcher, fold
from .retriever import Hit

__all__ = ["CHECKS", "Refusal", "RefusalChecks"]

CHECKS = ("absent-speaker", "absent-group", "outside-dates", "vote-count", "missing-number",
          "missing-terms")

_MONTHS = {m: i for i, m in enumerate(
    ("january", "february", "march", "april", "may", "june", "july", "august", "september",
     "october", "november", "december"), start=1)}
# "What did X say", "according to X", "X's position": X is a person's name (2-3 words).
_NAME = r"((?:[A-Z\u00C0-\u024F][\w'-]+ ){0,3}[A-Z\u00C0-\u024F][\w'-]+)"
_TITLES = {"commissioner", "mr", "mrs", "ms", "dr", "minister", "president", "rapporteur",
           "mep", "prime", "vice-president", "high", "representative", "chancellor"}
_SPEAKER_SLOT = [
    re.compile(r"\b(?:did|does|do|has|had|would)\s+" + _NAME +
               r"\s+(?:say|said|tell|told|argue|think|write|claim|propose|want|call|demand|"
               r"warn|ask|address|defend|criticise|criticize|announce)"),
    re.compile(r"\baccording to\s+" + _NAME + r"\b"),
    re.compile(_NAME + r"'s\s+(?:position|view|speech|argument|statement)"),
]
_NOT_PERSONS = {"parliament", "the commission", "commission", "council", "meps", "mep", "europe",
                "the eu", "eu", "the council", "the parliament", "members", "the house",
                "the chair", "the president", "president", "the left", "renew", "the greens",
                "greens", "patriots", "the patriots", "socialists", "liberals", "conservatives"}
_INSTITUTION = re.compile(r"\b(?:parliament|commission|council|european|europe|union|group|"
                          r"presidency|house|government|states|nations|party|committee)\b")
_YEAR_EVENT = re.compile(r"\b(?:(" + "|".join(_MONTHS) + r")\s+)?((?:19|20)\d\d)\b"
                         r"(?=[^.?!]{0,25}\b(?:debate|plenary|sitting|session|vote)s?\b)?")
_EVENT_WORDS = re.compile(r"\b(?:debate|plenary|sitting|session|parliament|meps?)\b")
_VOTES_ASKED = re.compile(r"\bhow many\b[^?]*\b(?:votes?|voted|abstain\w*|abstentions?)\b|"
                          r"\b(?:vote count|tally|result of the vote)\b")
_VOTES_GIVEN = re.compile(r"\b\d[\d\s,.]*\s+(?:votes?|in favour|against|abstentions?|"
                          r"members voted)\b")
_MONEY_ASKED = re.compile(r"\bhow much (?:money|did|does|do|will|would|has|have|is|was)\b|"
                          r"\bhow much\b[^?]*\b(?:cost|pay|paid|spend|spent|fund\w*|invest\w*)\b")
_MONEY_GIVEN = re.compile(r"(?:€|\$|£|\beur\b|\busd\b|\beuros?\b|\bdollars?\b|\bbillion\b|"
                          r"\bmillion\b|\btrillion\b)")
_UNIT_ASKED = re.compile(r"\bhow many (tonnes|tons|barrels|litres|hectares|kilometres|"
                         r"megawatts|gigawatts)\b")
_NUMBER = r"\d[\d\s,.]*\s*(?:million |billion |thousand )?"
_ADJECTIVE_ENDINGS = ("ian", "ish", "ese", "ic", "ean")
_GENERIC = {"what", "which", "who", "whom", "how", "many", "much", "did", "does", "say", "said",
            "tell", "told", "mep", "meps", "european", "parliament", "debate", "plenary",
            "commission", "council", "member", "members", "speaker", "group", "argu", "think",
            "posit", "view", "speech", "speak", "year", "accord", "give", "want"}


@dataclass(frozen=True)
class Refusal:
    check: str
    reason: str

    def __str__(self) -> str:
        return f"{self.check}: {self.reason}"


class RefusalChecks:
    """The checks over one index; ``before`` needs only the question, ``after`` the hits."""

    def __init__(self, index: CorpusIndex) -> None:
        self.index = index
        self.matcher = SpeakerMatcher(index.speaker_names)
        dates = sorted({r.date for r in index.records})
        self.first = dt.date.fromisoformat(dates[0]) if dates else None
        self.last = dt.date.fromisoformat(dates[-1]) if dates else None
        self._folded_texts: list[str] | None = None

    def run(self, question: str, hits: list[Hit]) -> Refusal | None:
        """The first check that refuses, or None."""
        return self.before(question) or self.after(question, hits)

    # -- before retrieval ----------------------------------------------------------------------
    def before(self, question: str) -> Refusal | None:
        return (self.absent_group(question) or self.absent_speaker(question)
                or self.outside_dates(question) or self.missing_terms(question))

    def absent_group(self, question: str) -> Refusal | None:
        present = set(self.index.parties)
        missing = [g for g in groups_mentioned(question) if g not in present]
        if re.search(r"\bbrexit party\b", question, re.IGNORECASE):
            missing.append("Brexit Party")
        if re.search(r"\bnations and freedom\b|\benf\b", question, re.IGNORECASE):
            missing.append("ENF")
        if not missing:
            return None
        groups = ", ".join(sorted(p for p in present if p)) or "none"
        return Refusal("absent-group", f"the group {', '.join(dict.fromkeys(missing))} has no "
                                       f"speech in these debates (groups present: {groups})")

    def absent_speaker(self, question: str) -> Refusal | None:
        for pattern in _SPEAKER_SLOT:
            for match in pattern.finditer(question):
                words = match.group(1).split()
                while words and fold(words[0]) in _TITLES:
                    words = words[1:]
                name = " ".join(words)
                if (not name or fold(name) in _NOT_PERSONS or fold(words[0]) in {"the", "a"}
                        or groups_mentioned(name) or _INSTITUTION.search(fold(name))):
                    continue
                if self.matcher.find(name):
                    continue
                surname = fold(name).split()[-1]
                mentions = sum(1 for text in self._texts() if surname in text)
                return Refusal("absent-speaker", f"{name} did not speak in these debates; "
                                                 f"{mentions} speeches mention {name}")
        return None

    def outside_dates(self, question: str) -> Refusal | None:
        if self.first is None or self.last is None:
            return None
        text = question.lower()
        for match in _YEAR_EVENT.finditer(text):
            month, year = match.group(1), int(match.group(2))
            if not month and not _EVENT_WORDS.search(text):
                continue
            start = dt.date(year, _MONTHS[month] if month else 1, 1)
            end = dt.date(year, _MONTHS[month] if month else 12, 28)
            if end < self.first.replace(day=1) or start > self.last:
                return Refusal("outside-dates", f"the question asks about "
                                                f"{match.group(0).strip()}, but the debates run "
                                                f"from {self.first} to {self.last}")
        return None

    def missing_terms(self, question: str) -> Refusal | None:
        vocab = self.index.bm25.vocab if self.index.bm25 is not None else {}
        terms = {}  # stem -> the word as written
        for word in re.findall(r"[^\W\d_][\w'-]*", question):
            for stem in tokenize(word):
                if len(stem) >= 4 and stem not in _GENERIC:
                    terms.setdefault(stem, word)
        absent = [word for stem, word in terms.items() if stem not in vocab]
        # a name the corpus never mentions ("Eurovision"), or half the content terms
        named = [word for word in absent if word[:1].isupper() and word != question.split()[0]
                 and not word.lower().endswith(_ADJECTIVE_ENDINGS)  # "Nordic", "Scandinavian"
                 and word.lower() not in _MONTHS]
        if named or (absent and len(absent) * 2 >= len(terms)):
            return Refusal("missing-terms", f"no speech contains {', '.join(named or absent)}")
        return None

    # -- after retrieval -----------------------------------------------------------------------
    def after(self, question: str, hits: list[Hit]) -> Refusal | None:
        text = question.lower()
        passages = " ".join(h.record.text.lower() for h in hits)
        if _VOTES_ASKED.search(text) and not _VOTES_GIVEN.search(passages):
            return Refusal("vote-count", "the question asks for a vote count and no retrieved "
                                         "passage gives one")
        unit = _UNIT_ASKED.search(text)
        if unit and not re.search(_NUMBER + unit.group(1)[:5], passages):
            return Refusal("missing-number", f"no retrieved passage gives a number of "
                                             f"{unit.group(1)}")
        if _MONEY_ASKED.search(text) and not _MONEY_GIVEN.search(passages):
            return Refusal("missing-number", "the question asks for an amount of money and no "
                                             "retrieved passage gives one")
        return None

    def _texts(self) -> list[str]:
        if self._folded_texts is None:
            self._folded_texts = [fold(s.text) for s in self.index.speeches.values()]
        return self._folded_texts
