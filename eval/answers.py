"""Answer quality: does the answer quote the facts a good answer must quote?

Each gold question may carry an ``answer_hint``: key facts separated by ``;``, written by
reading the speech that answers it (short facts on the sample set, "35 per tonne";
own-words notes on the real set, "an estimated EUR 500 billion of damage (Barry Andrews,
Renew)").  Both sides are first normalised (:func:`normalise`: NFKC, case folded, dashes
and quote marks unified, thousands separators dropped so "99,000" and "99 000" are "99000",
"per cent"/"percent" → "%", "€"/"euro" → "eur").  A fact *is contained* in an answer when

* every number of the fact occurs as a number in the answer text, and
* at least half of the fact's content words (Snowball-stemmed, stop words and filler such as
  "say", "would", "very" left out; see ``rag.claims.content_terms``) occur in the answer.

A hint is contained when all its facts are; a refused answer contains nothing.  For the
offline ``extractive`` generator the answer text is only quotes and speaker labels, so a fact
contained is a fact quoted (or its speaker named, for "which MEP" questions).

The figure is the share of answerable hinted questions (kind ``unanswerable`` is left out)
whose answer contains the hint, overall and per question kind.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .retrieval import GoldFilters, load_gold

__all__ = ["HintQuestion", "load_hinted", "normalise", "hint_facts", "contains_hint",
           "run_answer_eval", "format_answer_report"]


class HintQuestion(BaseModel):
    """The fields of a gold question this suite needs (other fields are ignored)."""

    model_config = ConfigDict(extra="ignore")

    qid: str
    question: str
    answer_hint: str = ""
    kind: str = "mixed"
    filters: GoldFilters = Field(default_factory=GoldFilters)

    def search_filters(self) -> Any:
        from rag.filters import SearchFilters

        f = self.filters
        return SearchFilters.build(f.party, f.speaker, f.date_from, f.date_to, f.debate)


def load_hinted(path: Path) -> list[HintQuestion]:
    return load_gold(path, HintQuestion)


_DASHES = re.compile(r"[\u2010-\u2015\u2212]")
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})
_THOUSANDS = re.compile(r"(?<=\d)[,\u00a0\u202f\u2009 ](?=\d{3}(?!\d))")
_PERCENT = re.compile(r"\s*(?:%|\bper\s*cent\b|\bpercent\b|\bpc\b)")
_EURO = re.compile(r"€\s*|\beuros?\b")


def normalise(text: str) -> str:
    """The form in which hints and answers are compared (see the module docstring)."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _DASHES.sub("-", text).translate(_QUOTES)
    text = _THOUSANDS.sub("", text)
    text = _PERCENT.sub("%", text)
    text = _EURO.sub("eur ", text)
    return re.sub(r"\s+", " ", text).strip()


_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")


def hint_facts(hint: str) -> list[str]:
    return [normalise(fact) for fact in hint.split(";") if fact.strip()]


def _fact_in(fact: str, numbers: set[str], terms: set[str]) -> bool:
    from rag.claims import content_terms

    wanted = content_terms(_NUMBER.sub(" ", fact))
    return (set(_NUMBER.findall(fact)) <= numbers
            and len(wanted & terms) * 2 >= len(wanted))


def contains_hint(text: str, hint: str) -> bool:
    """Every ``;``-separated fact of the hint is contained in the text (module docstring)."""
    from rag.claims import content_terms

    facts = hint_facts(hint)
    body = normalise(text)
    numbers, terms = set(_NUMBER.findall(body)), content_terms(_NUMBER.sub(" ", body))
    return bool(facts) and all(_fact_in(fact, numbers, terms) for fact in facts)


def run_answer_eval(assistant: Any, questions: Iterable[HintQuestion]) -> dict[str, Any]:
    """Hint coverage of the assistant's answers, overall and per question kind."""
    rows = []
    for q in questions:
        if not q.answer_hint.strip() or q.kind == "unanswerable":
            continue
        answer = assistant.ask(q.question, filters=q.search_filters())
        hit = not answer.refused and contains_hint(answer.answer, q.answer_hint)
        rows.append({"qid": q.qid, "kind": q.kind, "contains_hint": hit,
                     "refused": answer.refused})
    by_kind: dict[str, dict[str, Any]] = {}
    for kind in sorted({r["kind"] for r in rows}):
        subset = [r for r in rows if r["kind"] == kind]
        by_kind[kind] = {"questions": len(subset),
                         "hint_coverage": round(sum(r["contains_hint"] for r in subset)
                                                / len(subset), 3)}
    total = len(rows)
    return {"questions": total,
            "hint_coverage": round(sum(r["contains_hint"] for r in rows) / total, 3)
            if total else 0.0,
            "refused": sum(r["refused"] for r in rows), "by_kind": by_kind,
            "missed": [r["qid"] for r in rows if not r["contains_hint"]]}


def format_answer_report(results: dict[str, Any]) -> str:
    lines = [f"hint coverage: {results['hint_coverage']:.3f} "
             f"({results['questions']} hinted questions, {results['refused']} refused)"]
    for kind, data in results["by_kind"].items():
        lines.append(f"  {kind:20s} {data['hint_coverage']:.3f}  ({data['questions']})")
    if results["missed"]:
        lines.append("missed: " + ", ".join(results["missed"]))
    return "\n".join(lines)
