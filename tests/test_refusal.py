"""Each refusal check of rag.refusal, on the tiny corpus, and the reply that names it."""

from __future__ import annotations

import pytest

from conftest import TINY, write_jsonl
from ingest.pipeline import ingest_paths
from ingest.settings import Settings
from ingest.store import open_client
from rag.assistant import Assistant
from rag.extractive import ExtractiveGenerator
from rag.index import CorpusIndex
from rag.refusal import RefusalChecks
from rag.retriever import Retriever


@pytest.fixture(scope="module")
def assistant(tmp_path_factory, embedder):
    root = tmp_path_factory.mktemp("refusal")
    settings = Settings(home=root / "home")
    client = open_client(settings)
    ingest_paths(settings, [write_jsonl(root / "tiny.jsonl", TINY)], embedder, client)
    return Assistant(Retriever(CorpusIndex.load(settings, client), embedder),
                     ExtractiveGenerator(embedder), k=5)


def reason(assistant, question):
    return assistant.prepare(question)[3] or ""


def test_a_person_who_never_spoke_is_refused_with_the_mention_count(assistant):
    answer = assistant.ask("What did Angela Merkel say about the Mercosur beef quota?")
    assert answer.refused
    assert "Angela Merkel did not speak in these debates; 0 speeches mention" in answer.answer
    assert answer.closest_debates[0]["debate_title"] == "EU–Mercosur trade agreement"
    assert reason(assistant, "What did Jonas Weber say about the beef quota?") == ""


def test_a_group_absent_from_the_corpus_is_refused(assistant):
    assert reason(assistant, "What did the ESN group say about farmers and paperwork?"
                  ).startswith("absent-group: the group ESN")
    assert reason(assistant, "What did the Greens say about the beef quota?") == ""


def test_a_debate_outside_the_corpus_dates_is_refused(assistant):
    assert reason(assistant, "What did MEPs say in the March 2019 debate on Mercosur tariffs?"
                  ).startswith("outside-dates")
    assert reason(assistant, "What did MEPs say in the March 2023 debate on Mercosur tariffs?"
                  ) == ""


def test_a_vote_count_no_passage_gives_is_refused(assistant):
    assert reason(assistant, "How many MEPs voted for the Mercosur agreement?"
                  ).startswith("vote-count")


def test_an_amount_of_money_is_refused_only_when_no_passage_gives_one(assistant):
    checks: RefusalChecks = assistant.checks
    question = "How much money does the Mercosur agreement save exporters?"
    hits = assistant.retriever.search("Mercosur tariffs exporters duties", k=3)
    assert any("billion euro" in h.record.text for h in hits)
    assert checks.after(question, hits) is None
    without = [h for h in hits if "euro" not in h.record.text]
    assert checks.after(question, without).check == "missing-number"


def test_key_terms_absent_from_every_speech_are_refused(assistant):
    refusal = assistant.checks.before("Which lasagna recipe uses bechamel?")
    assert str(refusal).startswith("missing-terms: no speech contains lasagna, recipe, bechamel")
    assert assistant.checks.before(
        "Did Jonas Weber link lasagna, the beef quota and Amazon deforestation?") is None
    named = assistant.checks.before(
        "Did Jonas Weber link Eurovision, the beef quota and Amazon deforestation?")
    assert str(named) == "missing-terms: no speech contains Eurovision"
