"""Query understanding and the LLM steps around retrieval (rag/llmsearch.py), the group slots
of "who opposed" questions (rag/comparison.py) and the named-speaker focus of the extractive
answer; the LLM steps run through the real groq client against the local fake server."""

from __future__ import annotations

import json

import pytest

from fake_llm import Status
from ingest.settings import Settings
from rag.comparison import asks_for_groups, group_slots
from rag.index import ChunkRecord
from rag.llmsearch import LLMSearch, SearchOptions, rrf_merge
from rag.retriever import Hit


def _hit(chunk: str, rank: int, party: str = "EPP", debate: str = "d1",
         speaker: str = "X Y", role: str = "MEP") -> Hit:
    record = ChunkRecord(chunk, chunk.split("#")[0], debate, "Debate", "2024-01-01", 2024,
                         speaker, party, role, "en", 0, 0, 10, "text")
    return Hit(record, 1.0 / rank, 0.5, 1.0, rank)


def test_rrf_merge_sums_reciprocal_ranks_by_chunk():
    a = [_hit("a#0", 1), _hit("b#0", 2), _hit("c#0", 3)]
    b = [_hit("c#0", 1), _hit("a#0", 2), _hit("d#0", 3)]
    merged = rrf_merge([a, b], k=3)
    # a: 1/61 + 1/62, c: 1/63 + 1/61, b: 1/62, d: 1/63
    assert [h.record.chunk_id for h in merged] == ["a#0", "c#0", "b#0"]
    assert [h.rank for h in merged] == [1, 2, 3]


def test_group_slots_keep_one_passage_per_group_of_the_best_debate():
    hits = [_hit("s1#0", 1, "EPP"), _hit("s2#0", 2, "EPP"), _hit("s3#0", 3, "EPP"),
            _hit("s4#0", 4, "", speaker="President", role="President"),
            _hit("s5#0", 5, "S&D", debate="other"), _hit("s6#0", 6, "Greens/EFA"),
            _hit("s7#0", 7, "S&D"), _hit("s8#0", 8, "PfE")]
    kept = group_slots(hits, 4)
    assert [h.record.chunk_id for h in kept] == ["s1#0", "s6#0", "s7#0", "s8#0"]
    assert [h.rank for h in kept] == [1, 2, 3, 4]
    assert [h.record.chunk_id for h in group_slots(hits, 6)] == [
        "s1#0", "s2#0", "s3#0", "s6#0", "s7#0", "s8#0"]
    assert asks_for_groups("Who opposed a gas price cap, and why?")
    assert asks_for_groups("How did the groups differ on the AI Act?")
    assert not asks_for_groups("What did Jonas Weber say about the beef quota?")


@pytest.fixture
def tiny_assistant(tmp_path, embedder, tiny_corpus):
    from ingest.pipeline import ingest_paths
    from ingest.store import open_client
    from rag.assistant import Assistant
    from rag.extractive import ExtractiveGenerator
    from rag.index import CorpusIndex
    from rag.retriever import Retriever

    settings = Settings(home=tmp_path / "home")
    client = open_client(settings)
    ingest_paths(settings, [tiny_corpus], embedder, client)
    retriever = Retriever(CorpusIndex.load(settings, client), embedder)
    return Assistant(retriever, ExtractiveGenerator(embedder), k=5)


def test_named_speaker_is_reported_and_answers_from_their_own_speech(tiny_assistant):
    answer = tiny_assistant.ask("What did Weber say about the Mercosur agreement?")
    assert answer.filters == "speaker named in the question: Jonas Weber"
    assert not answer.refused and answer.citations
    assert {c.speaker for c in answer.citations} == {"Jonas Weber"}
    institution = tiny_assistant.ask("What did the Commission say about pesticides for farms?")
    assert {c.speaker for c in institution.citations} == {"Commissioner Ilse Brandt"}


def _llm_settings(tmp_path, fake, **extra) -> Settings:
    return Settings(home=tmp_path / "llm-home", groq_api_key="test-key",
                    groq_base_url=fake.base_url, llm_timeout_s=2.0, llm_max_retries=1, **extra)


def _search(settings: Settings, options: SearchOptions) -> LLMSearch:
    from ingest.llm import LLMClient, parse_spec

    return LLMSearch(LLMClient(parse_spec("groq:m", settings), settings), options)


def test_rewrite_multi_query_and_rerank_through_the_client_and_its_cache(
        tmp_path, fake_llm, tiny_assistant):
    def respond(body):
        system = body["messages"][0]["content"]
        if "search queries" in system:
            return json.dumps({"query": "EU-Mercosur beef quota deforestation",
                               "alternatives": ["climate clauses trade deal",
                                                "tariffs exports Mercosur"]})
        assert '<passage n="1"' in body["messages"][-1]["content"]
        return json.dumps({"order": [3, 1]})  # 2, 4… keep their order after these

    fake_llm.responder = respond
    settings = _llm_settings(tmp_path, fake_llm)
    tiny_assistant.llm_search = _search(settings, SearchOptions(rewrite=True, queries=2,
                                                                rerank=4))
    plain = tiny_assistant.retriever.search  # what each query retrieves on its own
    question = "So what was said about beef and the forest?"
    runs = [plain(q, k=5, per_speech=3) for q in (
        "EU-Mercosur beef quota deforestation", question, "climate clauses trade deal",
        "tariffs exports Mercosur")]
    fused = rrf_merge(runs, 5)
    expected = [fused[2], fused[0], fused[1], fused[3], fused[4]]

    answer = tiny_assistant.ask(question)
    assert len(fake_llm.completions) == 2  # one plan, one ranking
    assert answer.search_steps[0] == "rewritten by groq:m: 'EU-Mercosur beef quota deforestation'"
    assert answer.search_steps[1].startswith("4 queries merged by reciprocal-rank fusion")
    assert answer.search_steps[2] == "top 4 reranked by groq:m"
    assert [r["chunk_id"] for r in answer.retrieval] == [h.record.chunk_id for h in expected]
    rerank = fake_llm.completions[1].body
    assert rerank["response_format"] == {"type": "json_object"}

    again = tiny_assistant.ask(question)
    assert len(fake_llm.completions) == 2  # both steps from the on-disk cache
    assert again.retrieval == answer.retrieval


def test_failed_llm_steps_fall_back_to_plain_retrieval(tmp_path, fake_llm, tiny_assistant):
    fake_llm.script(*[Status(500)] * 4)  # two attempts for the plan, two for the ranking
    settings = _llm_settings(tmp_path, fake_llm)
    tiny_assistant.llm_search = _search(settings, SearchOptions(rewrite=True, rerank=3))
    question = "What about the beef quota?"
    answer = tiny_assistant.ask(question)
    assert len(fake_llm.completions) == 4
    assert answer.search_steps[0].startswith("query rewriting skipped (groq:m: HTTP 500")
    assert answer.search_steps[1].startswith("reranking skipped (groq:m: HTTP 500")
    tiny_assistant.llm_search = None
    assert tiny_assistant.ask(question).retrieval == answer.retrieval


def test_search_steps_are_off_by_default_and_need_an_llm(tmp_path):
    from ingest.errors import ConfigError
    from rag.llmsearch import make_llm_search

    assert make_llm_search(Settings(home=tmp_path), "extractive") is None
    with pytest.raises(ConfigError, match="HEMICYCLE_SEARCH_LLM"):
        make_llm_search(Settings(home=tmp_path, search_rerank=10), "extractive")
    search = make_llm_search(Settings(home=tmp_path, search_rerank=10, groq_api_key="k"),
                             "groq:llama-3.3-70b-versatile")
    assert search is not None and search.options == SearchOptions(rerank=10)
    assert search.name == "groq:llama-3.3-70b-versatile"
