"""Speech-level retrieval scores per question, per kind and overall, for a question set.

A run is TREC-style: ``run[qid][speech_id] = 1 / rank`` (the retriever already keeps one hit
per speech, so a chunk hit counts once for its speech).  Answerable questions get recall@1/5/10,
MRR@10 and nDCG@10; unanswerable ones are scored apart as the share refused at the refusal
threshold (best dense similarity of the hits below it).  Per-question ranks are kept so two
runs can be diffed (``diff_runs``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ingest.errors import InputError
from rag.retriever import Retriever

from .metrics import evaluate, mrr, ndcg_at_k, recall_at_k
from .questions import Question

__all__ = ["PER_QUESTION", "rank_questions", "score_mode", "run_question_eval", "diff_runs",
           "format_report", "load_report"]

PER_QUESTION = ("recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10")


def rank_questions(retriever: Retriever, questions: Sequence[Question], mode: str,
                   k: int = 10) -> dict[str, dict[str, Any]]:
    """For each question: the ranked speech ids and the best dense similarity of the hits."""
    ranked: dict[str, dict[str, Any]] = {}
    for q in questions:
        hits = retriever.search(q.question, k=k, mode=mode, filters=q.search_filters())
        ranked[q.qid] = {"ranked": [h.record.speech_id for h in hits],
                         "best_dense": round(max((h.dense_score for h in hits), default=0.0), 4)}
    return ranked


def _per_question(q: Question, ranked: list[str]) -> dict[str, Any]:
    scores = {doc: 1.0 / rank for rank, doc in enumerate(ranked, start=1)}
    qrels = q.qrels
    first = next((rank for rank, doc in enumerate(ranked, start=1) if qrels.get(doc, 0) > 0),
                 None)
    return {"first_rank": first,
            "recall@1": recall_at_k(qrels, scores, 1), "recall@5": recall_at_k(qrels, scores, 5),
            "recall@10": recall_at_k(qrels, scores, 10), "mrr@10": mrr(qrels, scores, 10),
            "ndcg@10": round(ndcg_at_k(qrels, scores, 10), 4)}


def score_mode(questions: Sequence[Question], ranked: dict[str, dict[str, Any]],
               threshold: float) -> dict[str, Any]:
    """Overall and per-kind means over answerable questions; refusal share on the others."""
    answerable = [q for q in questions if q.answerable]
    run = {q.qid: {doc: 1.0 / r for r, doc in enumerate(ranked[q.qid]["ranked"], start=1)}
           for q in answerable}
    by_kind = {kind: evaluate({q.qid: q.qrels for q in answerable if q.kind == kind}, run)
               for kind in sorted({q.kind for q in answerable})}
    unanswerable = [q for q in questions if not q.answerable]
    refused = [q.qid for q in unanswerable if ranked[q.qid]["best_dense"] < threshold]
    answered_in_domain = sum(1 for q in answerable if ranked[q.qid]["best_dense"] >= threshold)
    per_question = {}
    for q in questions:
        row: dict[str, Any] = {"kind": q.kind, "ranked": ranked[q.qid]["ranked"],
                               "best_dense": ranked[q.qid]["best_dense"]}
        if q.answerable:
            row.update(_per_question(q, ranked[q.qid]["ranked"]))
        else:
            row["refused"] = q.qid in refused
        per_question[q.qid] = row
    return {
        "overall": evaluate({q.qid: q.qrels for q in answerable}, run),
        "by_kind": by_kind,
        "unanswerable": {"questions": len(unanswerable), "threshold": threshold,
                         "refused_share": round(len(refused) / len(unanswerable), 4)
                         if unanswerable else None,
                         "answerable_kept_share": round(answered_in_domain / len(answerable), 4)
                         if answerable else None},
        "per_question": per_question,
    }


def run_question_eval(retriever: Retriever, questions: Sequence[Question],
                      modes: Sequence[str], k: int = 10,
                      threshold: float = 0.30) -> dict[str, Any]:
    """Every mode scored on the same questions, plus paired significance when > 1 mode."""
    from .significance import paired_tests

    results: dict[str, Any] = {"questions": len(questions), "k": k, "modes": {}}
    for mode in modes:
        results["modes"][mode] = score_mode(questions, rank_questions(retriever, questions,
                                                                      mode, k), threshold)
    if len(modes) > 1:
        results["significance"] = paired_tests(results["modes"])
    return results


def diff_runs(a: dict[str, Any], b: dict[str, Any], metric: str = "ndcg@10",
              ) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Per mode found in both reports: questions whose ``metric`` rose or fell from A to B."""
    out: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for mode in sorted(set(a.get("modes", {})) & set(b.get("modes", {}))):
        before = a["modes"][mode].get("per_question", {})
        after = b["modes"][mode].get("per_question", {})
        better, worse = [], []
        for qid in sorted(set(before) & set(after)):
            x, y = before[qid], after[qid]
            if metric in x and metric in y:
                old, new = x[metric], y[metric]
            elif "refused" in x and "refused" in y:
                old, new = float(x["refused"]), float(y["refused"])
            else:
                continue
            if new != old:
                row = {"qid": qid, "kind": y.get("kind"), "before": old, "after": new,
                       "first_rank_before": x.get("first_rank"),
                       "first_rank_after": y.get("first_rank")}
                (better if new > old else worse).append(row)
        out[mode] = {"better": better, "worse": worse}
    return out


def format_report(results: dict[str, Any]) -> str:
    """The text table: overall and per-kind scores per mode, refusals, significance."""
    metrics = ["recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10"]
    lines = [f"{'retriever':10s} {'kind':17s} " + " ".join(f"{m:>9s}" for m in metrics)]
    for mode, data in results["modes"].items():
        rows = [("overall", data["overall"])] + list(data["by_kind"].items())
        for kind, scores in rows:
            lines.append(f"{mode:10s} {kind:17s} " + " ".join(f"{scores[m]:9.3f}"
                                                                for m in metrics))
        un = data["unanswerable"]
        if un["questions"]:
            lines.append(f"{mode:10s} unanswerable: {un['refused_share']:.0%} of "
                         f"{un['questions']} refused at {un['threshold']:.2f} "
                         f"({un['answerable_kept_share']:.0%} of answerable kept)")
    for row in results.get("significance", []):
        lines.append(f"{row['a']} vs {row['b']} {row['metric']}: diff {row['mean_diff']:+.3f} "
                     f"p={row['p_value']:.4f}" + (" *" if row["significant"] else ""))
    return "\n".join(lines)


def load_report(path: Path) -> dict[str, Any]:
    """A saved retrieval report; a missing or foreign file is one ``InputError``."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{path}: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not JSON ({exc.msg})") from None
    if not isinstance(data, dict) or not isinstance(data.get("modes"), dict):
        raise InputError(f"{path}: not a retrieval report (no 'modes')")
    return data
