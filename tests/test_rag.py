"""Retrieval, the extractive generator, citations and refusal on the tiny corpus."""

from __future__ import annotations

import json

import pytest

from conftest import run_cli
from ingest.pipeline import ingest_paths
from ingest.store import open_client
from rag.answer import Turn, check_citations
from rag.assistant import Assistant
from rag.extractive import ExtractiveGenerator
from rag.filters import SearchFilters
from rag.index import CorpusIndex
from rag.retriever import HemicycleRetriever, Retriever


@pytest.fixture
def retriever(settings, embedder, tiny_corpus):
    client = open_client(settings)
    ingest_paths(settings, [tiny_corpus], embedder, client)
    return Retriever(CorpusIndex.load(settings, client), embedder)


@pytest.fixture
def assistant(retriever, embedder):
    return Assistant(retriever, ExtractiveGenerator(embedder), k=5)


def test_each_retriever_finds_the_obvious_speech(retriever):
    for mode in ("dense", "bm25", "hybrid"):
        hits = retriever.search("beef quota deforestation", k=3, mode=mode)
        assert hits[0].record.speech_id == "t-003", mode
        assert [h.rank for h in hits] == list(range(1, len(hits) + 1))


def test_filters_apply_to_both_sides(retriever):
    flt = SearchFilters.build(["ECR"], [], "2023-01-01", "2023-12-31")
    for mode in ("dense", "bm25", "hybrid"):
        hits = retriever.search("surveillance facial recognition", k=5, mode=mode, filters=flt)
        assert hits and {h.record.party for h in hits} == {"ECR"}, mode
    assert retriever.search("beef", mode="bm25",
                            filters=SearchFilters.build([], [], "2025-01-01")) == []
    by_debate = retriever.search("farmers", k=10, filters=SearchFilters.build(
        debates=["farmers' protests"]))
    assert {h.record.debate_title for h in by_debate} == {"Farmers' protests and the CAP"}


def test_top_k_is_diversified_per_speech(retriever):
    hits = retriever.search("Farm Resilience Fund small farms fertiliser", k=5)
    speech_ids = [h.record.speech_id for h in hits]
    assert len(speech_ids) == len(set(speech_ids))
    assert speech_ids[0] == "t-005"


def test_langchain_retriever_returns_documents_with_metadata(retriever):
    lc = HemicycleRetriever(retriever=retriever, k=2,
                            filters=SearchFilters.build(["Greens"]))
    docs = lc.invoke("biometric mass surveillance")
    assert docs[0].metadata["speech_id"] == "t-008"
    assert docs[0].page_content.startswith("Biometric mass surveillance")
    assert {d.metadata["party"] for d in docs} == {"Greens/EFA"}


def test_extractive_answer_quotes_and_cites(assistant, settings):
    answer = assistant.ask("What did the Greens say about the beef quota and deforestation?")
    assert not answer.refused
    assert "[1]" in answer.answer and "99,000 tonnes" in answer.answer
    assert answer.filters == "group Greens/EFA"  # group named in the question
    numbers = [c.n for c in answer.citations]
    assert numbers == sorted(set(numbers))  # the source list reads [1], [2], ... like footnotes
    first = answer.citations[0]
    assert first.speaker == "Jonas Weber" and first.party == "Greens/EFA"
    markdown = (settings.markdown_dir() / f"{first.debate_id}.md").read_text("utf-8")
    assert markdown[first.char_start:first.char_end] == first.quote
    assert first.quote in answer.answer
    assert answer.generator == "extractive" and answer.latency_s > 0


def test_off_topic_question_is_refused_with_closest_debates(assistant):
    answer = assistant.ask("What is the best recipe for lasagna with bechamel?")
    assert answer.refused and answer.citations == []
    assert answer.answer.startswith("The debates in this corpus do not address")
    assert answer.closest_debates and "threshold" in answer.refusal_reason


def test_filters_with_no_match_refuse_and_say_which(assistant):
    answer = assistant.ask("beef quota", filters=SearchFilters.build(["NI"]))
    assert answer.refused and "group NI" in answer.answer


def test_follow_up_carries_the_subject_and_switches_group(assistant):
    first = assistant.ask("What did the Greens argue against the Mercosur deal?")
    history = [Turn(first.question, first.answer, first.standalone_question)]
    follow = assistant.ask("and what did the S&D say?", history=history)
    assert "Mercosur" in follow.standalone_question
    assert not follow.refused
    assert {c.party for c in follow.citations} == {"S&D"}
    assert follow.citations[0].speaker == "Marta Kowalczyk"


def test_invalid_citations_are_removed_and_counted():
    text, used, removed = check_citations("Tariffs fall [1]. Beef [9] quota [2, 7]. [3]", 3)
    assert text == "Tariffs fall [1]. Beef quota [2]. [3]"
    assert used == [1, 2, 3] and removed == 2


@pytest.mark.slow
def test_ask_json_contract(tiny_corpus):
    run_cli("ingest", str(tiny_corpus), "--no-progress", check=True)
    data = json.loads(run_cli("ask", "Why should police use facial recognition?", "--json",
                              check=True).stdout)
    for key in ("answer", "refused", "generator", "latency_s", "citations"):
        assert key in data
    assert data["refused"] is False and data["generator"] == "extractive"
    cite = data["citations"][0]
    assert set(cite) >= {"n", "speech_id", "chunk_id", "speaker", "party", "date",
                         "debate_title", "quote"}
    assert cite["speech_id"] == "t-009" and cite["quote"] in (
        "Police need real-time facial recognition to find missing children and terrorists.")
    text = run_cli("ask", "Why should police use facial recognition?", check=True).stdout
    assert "Sources:" in text and "[1] Karel Novák (ECR)" in text
    missing = run_cli("ask", "x", "--generator", "groq:llama-3.3-70b-versatile")
    assert missing.returncode != 0 and "GROQ_API_KEY" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_search_mirror_is_updated_incrementally(settings, embedder, tmp_path, monkeypatch):
    """After an edit, only the new chunks' vectors are fetched from Chroma; every row of the
    mirror still equals the vector Chroma holds for that chunk."""
    import numpy as np

    import rag.index
    from conftest import TINY, write_jsonl
    from ingest.store import open_collection

    client = open_client(settings)
    ingest_paths(settings, [write_jsonl(tmp_path / "v1.jsonl", TINY)], embedder, client)
    first = CorpusIndex.load(settings, client)
    fetched: list[list[str]] = []
    real_fetch = rag.index._fetch_vectors
    monkeypatch.setattr(rag.index, "_fetch_vectors",
                        lambda collection, ids: fetched.append(list(ids)) or
                        real_fetch(collection, ids))
    assert CorpusIndex.load(settings, client).version == first.version
    assert fetched == []  # same version: the cached mirror is used as it is
    changed = [dict(r) for r in TINY]
    changed[3]["text"] = "Enforceable ILO conventions or no deal: 14 core conventions."
    ingest_paths(settings, [write_jsonl(tmp_path / "v2.jsonl", changed)], embedder, client)
    second = CorpusIndex.load(settings, client)
    new_ids = {r.chunk_id for r in second.records} - {r.chunk_id for r in first.records}
    assert len(fetched) == 1 and set(fetched[0]) == new_ids and len(new_ids) == 1
    stored = open_collection(client, settings.collection).get(
        ids=[r.chunk_id for r in second.records], include=["embeddings"])
    by_id = dict(zip(stored["ids"], stored["embeddings"]))
    expected = np.array([by_id[r.chunk_id] for r in second.records], dtype=np.float32)
    assert np.allclose(second.embeddings, expected, atol=1e-6)
    hits = Retriever(second, embedder).search("14 core ILO conventions", k=1, mode="bm25")
    assert hits[0].record.speech_id == "t-004"  # BM25 rebuilt for the new text


@pytest.mark.parametrize("sentence, quote", [
    ("Madam President, Commissioner, Minister, colleagues, on behalf of the Greens/EFA Group: "
     "we will vote against this agreement, and I want to explain why.",
     "we will vote against this agreement, and I want to explain why."),
    ("Mr President, the beef quota of 99,000 tonnes is far too large.",
     "the beef quota of 99,000 tonnes is far too large."),
    ("Madam President, thank you.", "Madam President, thank you."),  # nothing left: kept whole
    ("The Commissioner says the clause works.", "The Commissioner says the clause works."),
])
def test_quotes_leave_out_the_salutation_and_stay_exact(sentence, quote):
    from rag.extractive import trim_salutation

    assert trim_salutation(sentence) == quote and sentence.endswith(quote)


def test_topic_drops_groups_and_interrogative_framing():
    from rag.extractive import topic_of

    assert topic_of("What did the Greens argue against the Mercosur deal?") == \
        "argue against the Mercosur deal"
    assert topic_of("How much would the EU pay per relocated adult?") == \
        "would the EU pay per relocated adult"
    assert topic_of("and what did the S&D say?") == "and what did the S&D say?"  # nothing left


def test_a_short_opening_passage_is_widened_with_the_next_chunk(settings, embedder, tmp_path):
    from conftest import write_jsonl

    reasons = " ".join(
        f"Reason {i}: the Cerrado savanna loses {i * 1000} square kilometres a year to soy and "
        f"cattle pasture, and the agreement's chapter on forests cannot be enforced." for i in
        range(1, 15))
    text = ("Madam President, we will vote against the Zephyr agreement, and I will explain "
            "why.\n\n" + reasons)
    corpus = write_jsonl(tmp_path / "one.jsonl", [{
        "id": "w-1", "speaker_name": "Ada Lind", "speaker_party": "Greens/EFA",
        "speaker_role": "MEP", "debate_title": "Zephyr trade agreement", "date": "2024-01-10",
        "text": text}])
    client = open_client(settings)
    ingest_paths(settings, [corpus], embedder, client)
    index = CorpusIndex.load(settings, client)
    first, second = sorted(index.records, key=lambda r: r.chunk_index)[:2]
    assert first.text.startswith("Madam President") and "Cerrado" not in first.text
    wide = index.widen(first, 120)
    markdown = (settings.markdown_dir() / f"{first.debate_id}.md").read_text("utf-8")
    assert wide.text.startswith(first.text) and second.text in wide.text
    assert markdown[wide.char_start:wide.char_end] == wide.text
    assert wide.chunk_id == first.chunk_id and len(wide.text.split()) >= 120
    assert index.widen(first, 120, frozenset({second.chunk_id})) == first  # already a source
    assert index.widen(second, 120) == second  # long enough as it is

    answer = Assistant(Retriever(index, embedder), ExtractiveGenerator(embedder), k=1,
                       per_speech=1).ask("Why will they vote against the Zephyr agreement?")
    assert not answer.refused and "Cerrado savanna" in answer.sources[0].passage


def test_above_the_exact_limit_dense_candidates_come_from_chroma_hnsw(settings, embedder,
                                                                       tiny_corpus):
    """With ``dense_ann``, past ``dense_exact_rows`` the dense side asks Chroma's HNSW for
    candidates (the real
    embedded Chroma here) and scores only those and BM25's exactly; the hits are those of
    the exact search, and a filter keeping few rows is scored exactly on those rows."""
    import numpy as np

    client = open_client(settings)
    ingest_paths(settings, [tiny_corpus], embedder, client)
    exact = Retriever(CorpusIndex.load(settings, client), embedder, depth=4)
    assert CorpusIndex.load(settings, client).dense.ann is None  # off by default
    index = CorpusIndex.load(settings.model_copy(update={"dense_exact_rows": 3,
                                                         "dense_ann": True}), client)
    fetched: list[int] = []
    chroma = index.dense.ann
    index.dense.ann = lambda vector, n: fetched.append(n) or chroma(vector, n)
    approx = Retriever(index, embedder, depth=4)
    n = len(index)
    assert n > 8

    dense, lexical, _ = approx.scores("beef quota deforestation", "hybrid", None)
    assert fetched == [8]  # 2 x depth, nothing filtered
    scored = np.isfinite(dense)
    assert 8 <= scored.sum() < n
    full = index.embeddings @ embedder.encode_query("beef quota deforestation")
    assert np.allclose(dense[scored], full[scored])
    top_bm25 = np.argsort(-lexical)[:4]
    assert scored[top_bm25[lexical[top_bm25] > 0]].all()  # BM25's candidates have a cosine

    for query in ("beef quota deforestation", "surveillance facial recognition", "farmers"):
        for mode in ("dense", "bm25", "hybrid"):
            want = [(h.record.chunk_id, round(h.score, 5), round(h.dense_score, 5))
                    for h in exact.search(query, k=3, mode=mode)]
            assert [(h.record.chunk_id, round(h.score, 5), round(h.dense_score, 5))
                    for h in approx.search(query, k=3, mode=mode)] == want, (query, mode)

    fetched.clear()
    few = SearchFilters.build(["ECR"], [], "2023-01-01", "2023-12-31")
    mask = index.mask(few)
    assert 0 < mask.sum() <= 3
    dense = index.dense_scores(embedder.encode_query("surveillance"), mask, 4)
    assert fetched == [] and np.isfinite(dense).sum() == mask.sum()
    assert [h.record.chunk_id for h in approx.search("surveillance", k=3, filters=few)] == \
        [h.record.chunk_id for h in exact.search("surveillance", k=3, filters=few)]
    wide = SearchFilters.build([], [], "2024-01-01", "2025-12-31")
    assert index.mask(wide).sum() > 3
    for mode in ("dense", "hybrid"):
        assert [h.record.chunk_id for h in approx.search("farmers", k=3, mode=mode,
                                                         filters=wide)] == \
            [h.record.chunk_id for h in exact.search("farmers", k=3, mode=mode, filters=wide)]
    assert fetched  # the HNSW path, over-fetched for the filter

    exact_small = CorpusIndex.load(settings.model_copy(update={"dense_exact_rows": 3}), client)
    assert exact_small.dense.ann is None  # without dense_ann: exact, a narrow filter gathered
    vector = embedder.encode_query("surveillance")
    narrow = exact_small.dense_scores(vector, exact_small.mask(few), 4)
    assert np.isfinite(narrow).sum() == exact_small.mask(few).sum()
    assert np.isfinite(exact_small.dense_scores(vector, exact_small.mask(wide), 4)).all()
