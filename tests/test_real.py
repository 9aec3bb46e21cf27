"""The real-debate gold set (data/eval/real-questions.jsonl) against the real corpus:
validity, ranking targets and refusal targets (skipped without ../shared)."""

from __future__ import annotations

import json

import pytest

from conftest import ROOT, SHARED
from eval.real_corpus import real_records
from eval.refusal import load_refusal_questions, run_refusal_eval
from eval.retrieval import REAL_KINDS, load_gold, run_retrieval_eval
from rag.assistant import Assistant
from rag.extractive import ExtractiveGenerator
from rag.retriever import Retriever

REAL_GOLD = ROOT / "data" / "eval" / "real-questions.jsonl"


def test_real_gold_set_has_every_kind_and_enough_questions():
    questions = load_gold(REAL_GOLD)
    answerable = [q for q in questions if q.answerable]
    assert len(answerable) >= 80 and len(questions) - len(answerable) >= 15
    assert {q.kind for q in questions} == set(REAL_KINDS)
    assert all(q.answer_hint for q in questions)
    assert len({q.qid for q in questions}) == len(questions)


@pytest.mark.skipif(not SHARED.exists(), reason="the real corpus is not available")
def test_real_gold_ids_are_english_speeches_of_the_evaluation_corpus():
    subset = {r["id"] for r in real_records(SHARED)}
    for q in load_gold(REAL_GOLD):
        assert set(q.qrels) <= subset, q.qid


@pytest.fixture(scope="module")
def real_retriever(real_index, embedder):
    return Retriever(real_index, embedder)


@pytest.mark.slow
@pytest.mark.timeout(1800)  # includes the real ingest (~80 s alone, 18 min on a shared machine)
def test_default_retriever_meets_the_targets_on_real_debates(real_retriever):
    results = run_retrieval_eval(real_retriever, load_gold(REAL_GOLD), k=10)
    scores = {mode: data["overall"] for mode, data in results["modes"].items()}
    hybrid = scores["hybrid"]
    assert hybrid["recall@5"] >= 0.85 and hybrid["hit@1"] >= 0.80, hybrid
    assert hybrid["mrr@10"] >= 0.88, hybrid
    for side in ("dense", "bm25"):
        assert hybrid["mrr@10"] >= scores[side]["mrr@10"], scores
        assert hybrid["recall@5"] >= scores[side]["recall@5"], scores
    assert results["paired_tests"]["hybrid vs dense"]["mrr@10"]["p_value"] < 0.05


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_refusal_targets_on_real_debates(real_retriever, embedder):
    assistant = Assistant(real_retriever, ExtractiveGenerator(embedder))
    answerable, unanswerable = load_refusal_questions(REAL_GOLD)
    results = run_refusal_eval(assistant, answerable, unanswerable)
    assert results["unanswerable_refused"] >= 0.90, results["missed"]
    assert results["answerable_refused"] <= 0.05, results["wrongly_refused"]
