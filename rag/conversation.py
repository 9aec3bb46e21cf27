"""Follow-up questions: group names in a question, and the extractive subject carry-over."""

from __future__ import annotations

import re
from collections.abc import Sequence

from .answer import Turn

__all__ = ["groups_mentioned", "strip_groups", "is_follow_up", "carry_subject"]

# How people name the groups in questions -> canonical labels (see ingest.schema).
_GROUP_PATTERNS: dict[str, str] = {
    r"\bEPP\b|\bPPE\b|European People'?s Party|\bChristian Democrats\b": "EPP",
    r"\bS&D\b|\bS-D\b|\bSocialists?\b|\bSocial Democrats?\b": "S&D",
    r"\bRenew\b|\bLiberals?\b": "Renew",
    r"\bGreens?(?:/EFA)?\b|\bVerts\b": "Greens/EFA",
    r"\bECR\b|\bConservatives and Reformists\b": "ECR",
    r"\bPfE\b|\bPatriots\b": "PfE",
    r"\bESN\b|\bSovereign Nations\b": "ESN",
    r"\bID group\b|\bIdentity and Democracy\b": "ID",
    r"\bThe Left\b|\bLeft group\b|\bGUE/NGL\b": "The Left",
    r"\bnon-attached\b|\bNI\b": "NI",
}
_COMPILED = [(re.compile(p, re.IGNORECASE if "S&D" not in g and g not in ("NI", "ID") else 0),
              g) for p, g in _GROUP_PATTERNS.items()]
_FOLLOW_UP = re.compile(
    r"^\s*(and|what about|how about|but|also|same|what of|and the|and what)\b|"
    r"\b(they|them|their|it|this|that|these|those|he|she|his|her)\b", re.IGNORECASE)


def groups_mentioned(text: str) -> tuple[str, ...]:
    """Canonical group labels named in a question, in order."""
    found = [(m.start(), group) for pattern, group in _COMPILED
             for m in [pattern.search(text)] if m]
    return tuple(dict.fromkeys(group for _, group in sorted(found)))


def strip_groups(text: str) -> str:
    """The text with group names removed: the topic of "what did the Greens say about X"."""
    for pattern, _ in _COMPILED:
        text = pattern.sub(" ", text)
    return re.sub(r"\s{2,}", " ", text).strip()


def is_follow_up(question: str) -> bool:
    words = question.split()
    return len(words) <= 12 and bool(_FOLLOW_UP.search(question))


def carry_subject(question: str, history: Sequence[Turn]) -> str:
    """Extractive follow-ups: keep the previous question's subject, swap in the new focus.

    "and what did the S&D say?" after "What did the Greens argue against the Mercosur deal?"
    becomes "and what did the S&D say? (context: What did the argue against the Mercosur deal?)".
    """
    if not history or not is_follow_up(question):
        return question
    previous = history[-1].standalone or history[-1].question
    subject = strip_groups(previous.split(" (context: ")[-1].rstrip(")"))
    return f"{question.strip()} (context: {subject})"
