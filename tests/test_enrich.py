"""Enrichment: the LLM-client layer (limiter, retries, repair, cache, quota) against the local
fake server, quote verification, storage, filters, export columns and the HTML report."""

from __future__ import annotations

import json
import time

import pytest

from fake_llm import Delay, Reply, Status
from ingest.argstore import ArgumentStore
from ingest.arguments import Extraction
from ingest.enrich import LLMExtractor, enrich, extract_speech, select_speeches
from ingest.errors import ProviderError
from ingest.llm import LLMClient, parse_spec
from ingest.prompts import EXAMPLE_QUOTE
from ingest.quotes import locate, split_parts
from ingest.ratelimit import Limits, RateLimiter, parse_duration, retry_after_seconds
from ingest.schema import Speech
from ingest.settings import Settings
from test_browser import browser  # noqa: F401 - headless Chromium fixture

GOOD = {"claims": [{"claim": "Tariffs fall.", "quote": "removes tariffs on 91 percent"}],
        "stance": "for", "topics": ["trade"]}


def _settings(tmp_path, fake, **extra) -> Settings:
    values = {"home": tmp_path / "home", "groq_api_key": "test-key",
              "groq_base_url": fake.base_url, "llm_timeout_s": 1.0, "llm_max_retries": 2}
    values.update(extra)
    return Settings(**values)


def _client(settings, limiter=None) -> LLMClient:
    return LLMClient(parse_spec("groq:llama-3.1-8b-instant", settings), settings,
                     limiter=limiter or RateLimiter(Limits(None, None)))


def _speech(text: str, sid: str = "s1", language: str = "en") -> Speech:
    return Speech(sid, "d1", "EU–Mercosur trade agreement", "2024-12-11", 2024, "Ana Ferreira",
                  "EPP", "MEP", language, text)


# -- the client layer ----------------------------------------------------------------------------
def test_limiter_keeps_rpm_and_tpm_at_the_server(tmp_path, fake_llm):
    settings = _settings(tmp_path, fake_llm)
    fake_llm.limit(rpm=3, tpm=None, window_s=1.0)
    client = _client(settings, RateLimiter(Limits(3, None), window_s=1.0))
    for _ in range(7):
        client.complete([("user", "hi")])
    times = [r.at for r in fake_llm.completions]
    assert len(times) == 7 and fake_llm.rate_limited == 0
    assert all(times[i + 3] - times[i] >= 1.0 for i in range(len(times) - 3))
    assert times[-1] - times[0] >= 2.0  # 7 requests at 3 per second need two full windows

    fake_llm.requests.clear()
    fake_llm.limit(rpm=None, tpm=400, window_s=1.0)  # ~150 tokens a request: 2 per window
    client = _client(settings, RateLimiter(Limits(None, 400), window_s=1.0))
    for _ in range(5):
        client.complete([("user", "x" * 560)])
    times = [r.at for r in fake_llm.completions]
    assert fake_llm.rate_limited == 0 and len(times) == 5
    assert all(times[i + 2] - times[i] >= 1.0 for i in range(len(times) - 2))


def test_429_then_500_then_timeout_then_valid_json(tmp_path, fake_llm):
    settings = _settings(tmp_path, fake_llm, llm_max_retries=3)
    fake_llm.script(Status(429, {"retry-after": "1"}), Status(500), Delay(1.5),
                    Reply(json.dumps(GOOD)))
    result = _client(settings).complete_json([("user", "x")], Extraction)
    assert result.stance == "for" and result.topics == ["trade"]
    first, second = fake_llm.completions[:2]
    assert second.at - first.at >= 0.9  # waited the retry-after
    assert len(fake_llm.completions) == 4
    body = fake_llm.completions[-1].body
    assert body["response_format"] == {"type": "json_object"}  # no json_schema on this model


def test_invalid_json_gets_one_repair_then_a_recorded_failure(tmp_path, fake_llm):
    settings = _settings(tmp_path, fake_llm)
    client = _client(settings)
    fake_llm.script(Reply("Sure! Here are the claims."), Reply(json.dumps(GOOD)))
    assert client.complete_json([("user", "x")], Extraction).stance == "for"
    repair = fake_llm.completions[1].prompt
    assert "not valid JSON" in repair and client.stats.repairs == 1
    fake_llm.script(Status(400, body={"error": {"message": "Failed to validate JSON",
                                                "code": "json_validate_failed",
                                                "failed_generation": "{\"claims\": ["}}),
                    Reply("{\"stance\": \"maybe\"}"))
    with pytest.raises(ProviderError) as info:
        client.complete_json([("user", "y")], Extraction)
    assert info.value.reason == "invalid_json" and "\n" not in str(info.value)
    assert len(fake_llm.completions) == 4


def test_daily_quota_stops_the_run_and_says_when_to_resume(tmp_path, fake_llm):
    settings = _settings(tmp_path, fake_llm)
    store = ArgumentStore(tmp_path / "a.sqlite")
    speeches = [(_speech(f"This agreement removes tariffs on 91 percent of our exports ({i}).",
                         f"s{i}"), f"k{i}", 0) for i in range(3)]
    fake_llm.script(Reply(json.dumps(GOOD)),
                    Status(429, {"x-ratelimit-remaining-requests": "0",
                                 "x-ratelimit-reset-requests": "7h12m3s"}))
    report = enrich(LLMExtractor(_client(settings)), speeches, store)
    assert report.enriched == 1 and "resume after" in report.stopped
    assert "7h12m" in report.stopped and len(fake_llm.completions) == 2
    assert store.get("s0").status == "ok" and store.get("s1") is None
    assert parse_duration("2m59.5s") == pytest.approx(179.5)
    assert retry_after_seconds({"x-ratelimit-reset-tokens": "7.66s"}) == pytest.approx(7.66)


# -- quotes --------------------------------------------------------------------------------------
NON_ASCII = ("Pani Przewodnicząca! „Umowa z Mercosurem” to zdrada polskich rolników – "
             "mówię to wprost.\n\nΗ Ευρώπη δεν μπορεί να θυσιάσει τους αγρότες της. "
             "Wir sagen: „Nein“ zu diesem Abkommen, weil es die Bauern   ruiniert.")


def test_quotes_are_verified_repaired_or_dropped_with_exact_offsets(tmp_path, fake_llm):
    settings = _settings(tmp_path, fake_llm)
    speech = _speech(NON_ASCII, language="pl")
    reply = {"claims": [
        {"claim": "The deal betrays farmers.",  # exact, with typographic quotes
         "quote": "„Umowa z Mercosurem” to zdrada polskich rolników"},
        {"claim": "Europe must not sacrifice farmers.",  # Greek, exact
         "quote": "Η Ευρώπη δεν μπορεί να θυσιάσει τους αγρότες της."},
        {"claim": "No to the deal.",  # straight quotes, one space, different case
         "quote": "wir sagen: \"nein\" zu diesem abkommen, weil es die bauern ruiniert"},
        {"claim": "Invented.", "quote": "Poland will leave the European Union tomorrow."},
        {"claim": "From the prompt's example.", "quote": EXAMPLE_QUOTE},
    ], "stance": "against", "topics": ["trade", "agriculture", "Fishing"]}
    fake_llm.script(Reply(json.dumps(reply, ensure_ascii=False)))
    span_start = 1000  # where the speech text starts in its debate markdown
    args, counts = extract_speech(LLMExtractor(_client(settings)), speech, span_start)
    assert counts == {"verified": 3, "repaired": 1, "dropped": 2}
    assert args.quotes_dropped == 2 and args.topics == ("trade", "agriculture", "other")
    markdown = " " * span_start + speech.text
    for claim in args.claims:
        assert markdown[claim.char_start:claim.char_end] == claim.quote
    assert [c.match for c in args.claims] == ["exact", "exact", "normalised"]
    assert args.claims[2].quote == ("Wir sagen: „Nein“ zu diesem Abkommen, weil es die "
                                    "Bauern   ruiniert")  # the speech's exact text
    fuzzy = locate("Η Ευρώπη δεν μπορει να θυσιάσει τους αγρότες της", NON_ASCII)
    assert fuzzy.match == "fuzzy" and NON_ASCII[fuzzy.start:fuzzy.end].startswith("Η Ευρώπη")


def test_long_speech_is_split_on_sentences_with_offsets(tmp_path, fake_llm):
    text = " ".join(f"Sentence number {i} explains why tariffs matter." for i in range(400))
    parts = split_parts(text, 3000)
    assert len(parts) > 5 and all(b - a <= 3000 for a, b in parts)
    assert all(text[a:b].startswith("Sentence") and text[a:b].endswith(".") for a, b in parts)
    assert parts[0][0] == 0 and parts[-1][1] == len(text)
    settings = _settings(tmp_path, fake_llm)
    extractor = LLMExtractor(_client(settings))
    assert len(extractor.messages(_speech(text))) == len(split_parts(text, 9000))


# -- a collection: runs, cache, filters, export, report -------------------------------------------
@pytest.fixture
def ingested(settings, embedder, tiny_corpus):
    from ingest.pipeline import ingest_paths
    from ingest.store import open_client

    client = open_client(settings)
    ingest_paths(settings, [tiny_corpus], embedder, client)
    return settings, client


def _responder(body):
    """A model that quotes the speech's first sentence and says 'against' for Greens."""
    user = body["messages"][-1]["content"]
    text = user.split("<speech>", 1)[1].rsplit("</speech>", 1)[0]
    first = text.split(". ")[0].strip()
    stance = "against" if "Verts/ALE" in user or "Greens" in user else "for"
    return json.dumps({"claims": [{"claim": "First point.", "quote": first}], "stance": stance,
                       "topics": ["trade"]})


def test_second_run_makes_zero_requests_and_filters_work(ingested, fake_llm, embedder):
    from ingest.state import Manifest
    from ingest.store import open_collection
    from rag.filters import SearchFilters
    from rag.index import CorpusIndex
    from rag.retriever import Retriever

    base, client = ingested
    settings = base.model_copy(update={"groq_api_key": "k", "groq_base_url": fake_llm.base_url})
    fake_llm.responder = _responder
    manifest, store = Manifest(settings.state_path()), ArgumentStore.for_collection(settings)
    speeches = select_speeches(manifest, debates=["Mercosur"])
    chroma = open_collection(client, settings.collection)
    extractor = LLMExtractor(_client(settings))
    first = enrich(extractor, speeches, store, chroma=chroma, manifest=manifest)
    assert first.enriched == 4 and first.requests == 4 and first.quotes["verified"] >= 3
    second = enrich(LLMExtractor(_client(settings)), speeches, store, chroma=chroma,
                    manifest=manifest)
    assert second.unchanged == 4 and second.requests == 0 and len(fake_llm.completions) == 4
    store.db.execute("DELETE FROM arguments")  # lost store: the on-disk LLM cache answers
    store.db.commit()
    third = enrich(LLMExtractor(_client(settings)), speeches, store)
    assert third.cached == 4 and third.requests == 0 and len(fake_llm.completions) == 4

    got = chroma.get(where={"stance": "against"}, include=["metadatas"])
    assert {m["speaker"] for m in got["metadatas"]} == {"Jonas Weber"}
    assert all(m["arg_provider"] == "groq:llama-3.1-8b-instant" and m["topic_trade"]
               for m in got["metadatas"])
    retriever = Retriever(CorpusIndex.load(settings, client), embedder)
    hits = retriever.search("beef quota deforestation", k=5,
                            filters=SearchFilters.build(stances=["against"], topics=["trade"]))
    assert [h.record.speaker for h in hits] == ["Jonas Weber"]
    columns = store.export_columns("t-003")
    assert columns["stance"] == "against" and columns["enrichment_status"] == "ok"
    assert json.loads(columns["claims"])[0]["quote"].startswith("The beef quota")
    assert store.export_columns("t-009")["enrichment_status"] == "not_enriched"
    manifest.close()
    store.close()


# -- end to end: CLI, resumable runs, the Arguments page, the HTML report in Chromium ------------
@pytest.mark.slow
@pytest.mark.browser
def test_cli_enrich_resume_page_and_report(tiny_corpus, tmp_path, fake_llm, browser):
    import os
    import signal
    import sqlite3
    import subprocess
    import sys
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    from conftest import run_cli

    run_cli("ingest", str(tiny_corpus), "--no-progress", check=True)
    out = run_cli("enrich", "--provider", "heuristic", "--no-progress", check=True).stdout
    assert "provider: heuristic" in out and "enriched: 10" in out
    rows = json.loads(run_cli("arguments", "--debate", "Mercosur", "--json", check=True).stdout)
    assert rows and {r["speaker"] for r in rows} <= {"Ana Ferreira", "Jonas Weber",
                                                      "Marta Kowalczyk"}
    assert all(r["provider"] == "heuristic" for r in rows)
    bad = run_cli("arguments", "--stance", "maybe")
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert bad.stderr.strip().count("\n") == 0 and "--stance 'maybe'" in bad.stderr

    # `hemicycle export` carries the extracted columns: every record once, each enriched
    from conftest import TINY

    exported_path = tmp_path / "enriched.jsonl"
    run_cli("export", str(exported_path), check=True)
    exported = [json.loads(line) for line in exported_path.read_text("utf-8").splitlines()]
    assert sorted(r["id"] for r in exported) == sorted(r["id"] for r in TINY)
    assert all(r["enrichment_status"] == "ok" and r["enrichment_provider"] == "heuristic"
               and r["stance"] for r in exported)
    assert any(json.loads(r["claims"]) for r in exported)

    # an LLM run killed with SIGKILL resumes without asking again for finished speeches
    home = Path(os.environ["HEMICYCLE_HOME"])
    env = {**os.environ, "GROQ_API_KEY": "k", "HEMICYCLE_GROQ_BASE_URL": fake_llm.base_url}

    def slow(body):
        time.sleep(0.4)
        return _responder(body)

    fake_llm.responder = slow
    cmd = [sys.executable, "-c", "from ui.cli import main; main()", "enrich", "--provider",
           "groq:m", "--no-progress"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    db = home / "collections" / "debates" / "arguments.sqlite"
    deadline = time.time() + 120
    done: set[str] = set()
    while time.time() < deadline and len(done) < 3:
        time.sleep(0.2)
        with sqlite3.connect(db) as conn:
            done = {r[0] for r in conn.execute(
                "SELECT speech_id FROM arguments WHERE provider='groq:m'")}
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert 3 <= len(done) < 10
    fake_llm.responder = _responder
    asked_before = len(fake_llm.completions)
    result = subprocess.run(cmd + ["--json"], env=env, capture_output=True, text=True,
                            timeout=300)
    summary = json.loads(result.stdout)
    assert summary["unchanged"] >= len(done) and summary["failed"] == {}
    texts = {s["id"]: s["text"] for s in
             (json.loads(line) for line in tiny_corpus.read_text().splitlines())}
    resumed = fake_llm.completions[asked_before:]
    for sid in done:  # nothing finished before the kill was asked again
        assert not any(texts[sid][:40] in r.user_message for r in resumed)
    assert summary["requests"] <= 10 - len(done)

    # the Arguments page
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "ui" / "app.py"),
                           default_timeout=180)
    at.run()
    at.switch_page("pages/arguments.py").run()
    assert not at.exception
    assert at.title[0].value == "Arguments"
    table = at.table[0].value
    assert "Greens/EFA" in list(table["group"])
    labels = [e.label for e in at.expander]
    assert any(label.startswith("Jonas Weber: ") for label in labels)
    shown = [m.value.replace("\\", "") for m in at.markdown]
    assert any("**The beef quota of 99,000 tonnes" in t for t in shown)  # quote highlighted
    at.sidebar.multiselect(key="arg_groups").set_value(["ECR"]).run()
    assert {e.label.split(":")[0] for e in at.expander} == {"Karel Novák"}

    # the HTML report in headless Chromium
    report = tmp_path / "debate.html"
    out = run_cli("enrich", "--report", str(report), "--debate", "Mercosur", check=True).stdout
    assert "wrote" in out
    page = report.read_text(encoding="utf-8")
    assert "<script" not in page and "Jonas Weber" in page
    from selenium.webdriver.common.by import By

    browser.get(report.as_uri())
    marks = browser.find_elements(By.CSS_SELECTOR, "mark")
    assert marks and all(m.text for m in marks)
    matrix = browser.find_element(By.CSS_SELECTOR, "table.matrix").text
    assert "Greens/EFA" in matrix and "against" in matrix
    link = browser.find_elements(By.CSS_SELECTOR, "li a")[0]
    target = link.get_attribute("href").split("#")[1]
    link.click()
    assert browser.current_url.endswith("#" + target)
    assert browser.find_element(By.ID, target).tag_name == "mark"
    shot = tmp_path / "report.png"
    browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000


def test_extractive_answers_argue_questions_with_claim_quotes(embedder):
    from test_llm import _source
    from rag.extractive import ExtractiveGenerator

    text = ("Madam President, let me start with the forests of my region and its people. "
            "The beef quota of 99,000 tonnes will accelerate deforestation in the Amazon. "
            "We Greens will vote against any deal without binding climate clauses.")
    claim = "We Greens will vote against any deal without binding climate clauses."
    question = "What did Jonas Weber argue about the forests and the Amazon?"
    with_claims = ExtractiveGenerator(embedder, claims=lambda sid: [claim] if sid == "s1"
                                      else []).generate(question, [_source(1, text)])
    assert with_claims.text.count("“") == 1 and f"“{claim}” [1]" in with_claims.text
    plain = ExtractiveGenerator(embedder).generate(question, [_source(1, text)])
    assert plain.text != with_claims.text
