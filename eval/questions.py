"""Question sets: one pydantic-validated JSONL line per question.

The layout (shared with ``data/eval/real-questions.jsonl``)::

    {"qid": "...", "question": "...", "kind": "factual", "gold_ids": ["speech id", ...],
     "relevant": {"speech id": 2}, "answer_hint": "...", "filters": {"party": ["ECR"]}}

``gold_ids == []`` means the corpus does not answer the question (kind ``unanswerable``).
``relevant`` (optional) grades the gold speeches (2 answers it, 1 partly); without it every gold
id has grade 1.  The older ``retrieval-gold.jsonl`` layout (``relevant`` only, kinds factoid /
stance / paraphrase / keyword) loads too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ingest.errors import InputError
from rag.filters import SearchFilters

from .retrieval import GoldFilters as QuestionFilters

__all__ = ["Question", "QuestionFilters", "KINDS", "load_questions"]

Kind = Literal["factual", "speaker-position", "party-comparison", "debate-summary",
               "unanswerable"]
KINDS: tuple[str, ...] = ("factual", "speaker-position", "party-comparison", "debate-summary",
                          "unanswerable")
_LEGACY_KINDS = {"factoid": "factual", "keyword": "factual", "paraphrase": "factual",
                 "stance": "speaker-position", "mixed": "factual"}


class Question(BaseModel):
    """One question of a set; ``qrels`` is its TREC-style grade map."""

    model_config = ConfigDict(extra="ignore")

    qid: str = Field(min_length=1)
    question: str = Field(min_length=1)
    kind: Kind
    gold_ids: list[str]
    relevant: dict[str, int] | None = None
    answer_hint: str | None = None
    filters: QuestionFilters = Field(default_factory=QuestionFilters)

    @model_validator(mode="before")
    @classmethod
    def _legacy_layout(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = dict(data)
            if "gold_ids" not in data and isinstance(data.get("relevant"), dict):
                data["gold_ids"] = [k for k, v in data["relevant"].items() if v > 0]
            kind = data.get("kind")
            if kind in _LEGACY_KINDS:
                data["kind"] = _LEGACY_KINDS[kind]
            if "kind" not in data and "gold_ids" in data:
                data["kind"] = "factual" if data["gold_ids"] else "unanswerable"
        return data

    @model_validator(mode="after")
    def _consistent(self) -> Question:
        if (self.kind == "unanswerable") != (not self.gold_ids):
            raise ValueError("gold_ids must be empty exactly when kind is unanswerable")
        return self

    @property
    def answerable(self) -> bool:
        return bool(self.gold_ids)

    @property
    def qrels(self) -> dict[str, int]:
        grades = {doc: 1 for doc in self.gold_ids}
        grades.update({k: v for k, v in (self.relevant or {}).items() if v > 0})
        return grades

    def search_filters(self) -> SearchFilters:
        f = self.filters
        return SearchFilters.build(f.party, f.speaker, f.date_from, f.date_to, f.debate)


def load_questions(path: Path) -> list[Question]:
    """Every line validated; a bad line is one ``InputError`` naming file and line."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputError(f"{path}: {exc.strerror or exc}") from None
    questions: list[Question] = []
    seen: set[str] = set()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            question = Question.model_validate_json(line)
        except ValidationError as exc:
            error = exc.errors()[0]
            where = ".".join(str(p) for p in error["loc"])
            raise InputError(f"{path}:{number}: {where + ': ' if where else ''}"
                             f"{error['msg']}") from None
        if question.qid in seen:
            raise InputError(f"{path}:{number}: duplicate qid {question.qid!r}")
        seen.add(question.qid)
        questions.append(question)
    if not questions:
        raise InputError(f"{path}: no questions")
    return questions
