"""Pairwise judging with the judge's biases controlled, and the statistics over verdicts.

- Position: every pair is judged twice, A/B then B/A; a model wins only when both orders name
  it, anything else is a tie; the share of pairs where both orders agree is reported.
- Length: the length-controlled win rate is the win probability at equal length from a
  logistic model of the outcome on ``tanh(word difference / its standard deviation)``
  (AlpacaEval 2's length control; ties count half a win each way).
- Self-preference: a warning when the judge shares the model or family of a generator.
- Two judges: Cohen's kappa of their final outcomes, and the pairs where they disagree.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from rag.answer import Source

from .judge_client import CachedLLM, Failure, cache_key
from .prompts import CRITERIA, JUDGE_PROMPT_VERSION, judge_messages
from .significance import bootstrap_ci

__all__ = ["Scores", "Verdict", "PairJudgement", "judge_pair", "win_stats",
           "length_controlled", "family", "self_preference", "judge_agreement", "kappa",
           "judged_summary"]

Outcome = Literal["a", "b", "tie", "failed"]


class Scores(BaseModel):
    model_config = ConfigDict(extra="ignore")

    faithfulness: int = Field(ge=1, le=5)
    citations: int = Field(ge=1, le=5)
    answers_question: int = Field(ge=1, le=5)
    completeness: int = Field(ge=1, le=5)
    concision: int = Field(ge=1, le=5)


class Verdict(BaseModel):
    """What the judge must return (validated; anything else is retried once)."""

    model_config = ConfigDict(extra="ignore")

    winner: Literal["A", "B", "tie"]
    scores_a: Scores
    scores_b: Scores
    reason: str = Field(default="", max_length=2000)


@dataclass(frozen=True)
class PairJudgement:
    """Both orders of one pair, mapped back to the models (``a`` is always --a)."""

    judge: str
    outcome: Outcome
    consistent: bool | None  # None when an order failed
    first: dict[str, Any]  # order 1: a shown as A
    second: dict[str, Any]  # order 2: b shown as A
    error: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"judge": self.judge, "outcome": self.outcome, "consistent": self.consistent,
                "first": self.first, "second": self.second, "error": self.error}


def _order(verdict: Verdict | Failure, swapped: bool) -> dict[str, Any]:
    if isinstance(verdict, Failure):
        return {"failed": True, "error": verdict.error}
    to_model = {"A": "b" if swapped else "a", "B": "a" if swapped else "b", "tie": "tie"}
    scores = {"a": verdict.scores_b if swapped else verdict.scores_a,
              "b": verdict.scores_a if swapped else verdict.scores_b}
    return {"failed": False, "winner": to_model[verdict.winner], "shown_first_won":
            verdict.winner == "A", "reason": verdict.reason,
            "scores": {m: s.model_dump() for m, s in scores.items()}}


def judge_pair(llm: CachedLLM, client: Any, judge_name: str, question: str,
               sources: Sequence[Source], output_a: str, output_b: str,
               prompt: Callable[[str, str], list[Any]] | None = None,
               prompt_version: str = JUDGE_PROMPT_VERSION) -> PairJudgement:
    """Judge A/B and B/A; a win needs both orders, a failed order makes the pair failed.

    ``prompt(first, second)`` builds the messages of another task (e.g. argument extractions,
    ``eval.prompts.extraction_judge_messages``) under its own ``prompt_version``."""
    orders = []
    for swapped in (False, True):
        first, second = (output_b, output_a) if swapped else (output_a, output_b)
        messages = prompt(first, second) if prompt else judge_messages(question, sources,
                                                                        first, second)
        key = cache_key(judge_name, prompt_version, [m.content for m in messages])
        orders.append(_order(llm.complete_json(client, messages, Verdict, key), swapped))
    one, two = orders
    if one["failed"] or two["failed"]:
        error = one.get("error") or two.get("error") or "no verdict"
        return PairJudgement(judge_name, "failed", None, one, two, error)
    consistent = one["winner"] == two["winner"]
    outcome: Outcome = one["winner"] if consistent else "tie"
    return PairJudgement(judge_name, outcome, consistent, one, two)


def _points(outcomes: Sequence[str]) -> list[float]:
    return [{"a": 1.0, "b": 0.0, "tie": 0.5}[o] for o in outcomes]


def length_controlled(outcomes: Sequence[str], length_diff: Sequence[float]) -> float | None:
    """Win probability of A at equal length (logistic model on the length difference);
    None when every pair has the same outcome (the model cannot be fitted)."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    if len(outcomes) < 2:
        return None
    diff = np.asarray(length_diff, dtype=float)
    scale = diff.std() or 1.0
    x = np.tanh(diff / scale).reshape(-1, 1)
    rows, labels, weights = [], [], []
    for feature, outcome in zip(x, outcomes):
        for label, weight in ((1, {"a": 1.0, "tie": 0.5}.get(outcome, 0.0)),
                              (0, {"b": 1.0, "tie": 0.5}.get(outcome, 0.0))):
            if weight:
                rows.append(feature)
                labels.append(label)
                weights.append(weight)
    if len(set(labels)) < 2:  # one outcome only: nothing to separate from length
        return None
    model = LogisticRegression(C=1.0).fit(np.asarray(rows), labels, sample_weight=weights)
    return round(float(1 / (1 + np.exp(-model.intercept_[0]))), 4)


def win_stats(pairs: Sequence[dict[str, Any]], judge: str) -> dict[str, Any]:
    """Win rate of A with a bootstrap 95% CI, B's mirror, position consistency, length
    control, mean scores per criterion and a per-kind breakdown, for one judge."""
    judged = [p for p in pairs if p["judgements"].get(judge, {}).get("outcome")
              not in (None, "failed")]
    failed = sum(1 for p in pairs if p["judgements"].get(judge, {}).get("outcome") == "failed")
    outcomes = [p["judgements"][judge]["outcome"] for p in judged]
    points = _points(outcomes)
    rate = round(sum(points) / len(points), 4) if points else None
    low, high = bootstrap_ci(points) if points else (None, None)
    diffs = [p["a"]["words"] - p["b"]["words"] for p in judged]
    criteria: dict[str, dict[str, float]] = {}
    for model in ("a", "b"):
        totals = {c: 0.0 for c in CRITERIA}
        count = 0
        for p in judged:
            for order in ("first", "second"):
                scores = p["judgements"][judge][order]["scores"][model]
                count += 1
                for c in CRITERIA:
                    totals[c] += scores[c]
        criteria[model] = {c: round(v / count, 3) for c, v in totals.items()} if count else {}
    by_kind: dict[str, Any] = {}
    for kind in sorted({p["kind"] for p in judged}):
        kind_points = [pt for p, pt in zip(judged, points) if p["kind"] == kind]
        by_kind[kind] = {"pairs": len(kind_points),
                         "win_rate_a": round(sum(kind_points) / len(kind_points), 4)}
    consistent = [p["judgements"][judge]["consistent"] for p in judged]
    longer_won = [(d > 0 and o == "a") or (d < 0 and o == "b")
                  for d, o in zip(diffs, outcomes) if d != 0 and o != "tie"]
    return {
        "judge": judge, "pairs": len(judged), "failed": failed,
        "wins_a": outcomes.count("a"), "wins_b": outcomes.count("b"),
        "ties": outcomes.count("tie"),
        "win_rate_a": rate, "ci95_a": [low, high],
        "win_rate_b": round(1 - rate, 4) if rate is not None else None,
        "ci95_b": [round(1 - high, 4), round(1 - low, 4)] if points else [None, None],
        "length_controlled_win_rate_a": length_controlled(outcomes, diffs),
        "position_consistency": round(sum(consistent) / len(consistent), 4)
        if consistent else None,
        "longer_answer_won_share": round(sum(longer_won) / len(longer_won), 4)
        if longer_won else None,
        "criteria": criteria, "by_kind": by_kind,
    }


def family(model: str) -> str:
    """``llama-3.3-70b-versatile`` → ``llama``; ``openai/gpt-oss-120b`` → ``gpt``."""
    name = model.split(":", 1)[-1].split("@", 1)[0].rsplit("/", 1)[-1].lower()
    match = re.match(r"[a-z]+", name)
    return match.group(0) if match else name


def self_preference(judge: str, generators: Sequence[str]) -> list[str]:
    """Warnings when the judge is the same model or family as a generator."""
    warnings = []
    judge_model = judge.split(":", 1)[-1].split("@", 1)[0]
    for spec in generators:
        if spec == "extractive":
            continue
        model = spec.split(":", 1)[-1].split("@", 1)[0]
        if model == judge_model:
            warnings.append(f"judge {judge} is the same model as generator {spec}: "
                            "expect self-preference")
        elif family(model) == family(judge_model):
            warnings.append(f"judge {judge} is of the same family ({family(model)}) as "
                            f"generator {spec}: self-preference is possible")
    return warnings


def kappa(x: Sequence[str], y: Sequence[str]) -> float | None:
    """Cohen's kappa of two labellings of the same items (1.0 when both use one same label
    everywhere, None without items)."""
    from sklearn.metrics import cohen_kappa_score

    if not x:
        return None
    if len(set(x) | set(y)) == 1:
        return 1.0
    return round(float(cohen_kappa_score(x, y)), 4)


def judge_agreement(pairs: Sequence[dict[str, Any]], first: str,
                    second: str) -> dict[str, Any]:
    """Cohen's kappa of two judges' final outcomes, and the pairs they disagree on."""
    both = [p for p in pairs if all(p["judgements"].get(j, {}).get("outcome")
                                    not in (None, "failed") for j in (first, second))]
    x = [p["judgements"][first]["outcome"] for p in both]
    y = [p["judgements"][second]["outcome"] for p in both]
    return {"judges": [first, second], "pairs": len(both), "cohen_kappa": kappa(x, y),
            "agreement": round(sum(u == v for u, v in zip(x, y)) / len(both), 4)
            if both else None,
            "disagreements": [{"qid": p["qid"], first: u, second: v}
                              for p, u, v in zip(both, x, y) if u != v]}


def judged_summary(pairs: Sequence[dict[str, Any]], judges: Sequence[str],
                   clients: dict[str, Any], models: Sequence[str]) -> dict[str, Any]:
    """The judged part of a report: self-preference warnings, per-judge statistics and, with
    two judges, their agreement."""
    return {"warnings": [w for j in (judges if clients else []) for w in
                         self_preference(j, models)],
            "judged": {spec: win_stats(pairs, spec) for spec in clients},
            "agreement": judge_agreement(pairs, *list(clients)) if len(clients) == 2 else None}
