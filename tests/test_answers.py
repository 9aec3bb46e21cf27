"""Extractive answers that quote what answers; hint coverage; chat, ask --history, scores."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import run_cli
from eval.answers import contains_hint, normalise
from rag.answer import Source
from rag.claims import claim_of, is_chair
from rag.extractive import NO_SOURCE, ExtractiveGenerator
from rag.index import ChunkRecord
from rag.retriever import Hit


@pytest.mark.parametrize("sentence", [
    "Madam President, Commissioner, honourable Members.",
    "Thank you very much, Commissioner, for this important statement on the gas phase-out.",
    "I would like to thank the rapporteur and all the shadow rapporteurs for their work.",
    "The debate is closed and the vote will take place tomorrow at 12.00.",
    "Colleagues, please respect the speaking time, I give the floor to Mr Weber.",
    "Let me start with the forest.",
    "I would like to say a few words about the agreement.",
    "Let us prove it together.",
    "Tough times call for tough measures?",
    "(Applause)",
])
def test_salutations_thanks_procedure_framing_and_filler_are_not_claims(sentence):
    assert claim_of(sentence) is None


@pytest.mark.parametrize(("sentence", "claim"), [
    ("Madam President, the beef quota of 99,000 tonnes will accelerate deforestation.",
     "the beef quota of 99,000 tonnes will accelerate deforestation."),
    ("I would like to say that the quota of 99,000 tonnes is far too large.",
     "the quota of 99,000 tonnes is far too large."),
    ("First of all, Brazil has not ratified ILO Convention 87 on freedom of association.",
     "Brazil has not ratified ILO Convention 87 on freedom of association."),
    ("We Greens will vote against any deal without binding climate clauses.",
     "We Greens will vote against any deal without binding climate clauses."),
])
def test_claims_keep_their_substance_as_an_exact_suffix(sentence, claim):
    assert claim_of(sentence) == claim and sentence.endswith(claim)


def test_the_chair_is_told_apart_from_other_presidents():
    assert is_chair("President", "") and is_chair("Vice-President", "")
    assert is_chair("Ewa Kopacz", "Chair") and is_chair("President", "President")
    assert not is_chair("Ursula von der Leyen", "President of the Commission")
    assert not is_chair("Marie Bjerre", "President-in-Office of the Council")


def _source(n, sid, speaker, party, text, role="MEP", debate="EU–Mercosur trade agreement"):
    record = ChunkRecord(f"{sid}-c0", sid, "mercosur", debate, "2024-12-11", 2024, speaker,
                         party, role, "en", 0, 0, len(text), text)
    return Source(n, Hit(record, 1.0 / n, 0.6 - n / 100, 1.0, n))


CHAIR = _source(1, "s-chair", "President", "", "The beef quota of 99,000 tonnes and "
                "deforestation in the Amazon are the subject of this debate on Mercosur. "
                "I give the floor to Ms Ferreira.", role="")
EPP = _source(2, "s-epp", "Ana Ferreira", "EPP", "Madam President, Commissioner, thank you. "
              "Let me start with the farmers. The Mercosur agreement removes tariffs on 91 "
              "percent of our exports to South America. It saves European exporters four "
              "billion euro a year in duties on cars, wine and cheese.")
GREENS = _source(3, "s-grn", "Jonas Weber", "Greens/EFA", "Madam President, on behalf of "
                 "the Greens/EFA Group: I would like to thank the Commissioner. The Mercosur "
                 "beef quota of 99,000 tonnes will accelerate deforestation in the Amazon. We "
                 "will vote against any Mercosur deal without binding climate clauses.")
UNKNOWN_A = _source(4, "s-u1", "unknown", "", "The Mercosur deal lets in hormone-treated beef "
                    "that our own farmers are forbidden to produce.")
UNKNOWN_B = _source(5, "s-u2", "unknown", "", "The Mercosur deal opens car exports worth "
                    "billions to Brazilian and Argentine buyers.")


@pytest.fixture(scope="module")
def generator(embedder):
    return ExtractiveGenerator(embedder)


def _quotes(text):
    return [q.split("”")[0] for q in text.split("“")[1:]]


def test_comparison_gives_each_side_its_own_speakers_grouped_by_group(generator):
    sources = [CHAIR, EPP, GREENS]
    result = generator.generate("How did the EPP and the Greens differ on the Mercosur deal?",
                                sources)
    text = result.text
    assert text.index("**EPP**") < text.index("Ana Ferreira") < text.index("**Greens/EFA**") \
        < text.index("Jonas Weber")
    assert "91 percent" in text and "99,000 tonnes" in text
    assert "President" not in text.replace("Madam President", "")  # the chair is not cited
    assert 1 not in result.quotes
    for quote in _quotes(text):  # no salutation, thanks, framing or procedure
        assert claim_of(quote) == quote, quote
    for n, quote in result.quotes.items():
        assert quote in sources[n - 1].text  # every quote is exact


def test_a_side_without_sources_is_named_not_dropped(generator):
    result = generator.generate("EPP versus S&D on the Mercosur deal", [CHAIR, EPP, GREENS])
    assert NO_SOURCE.format(side="S&D") in result.text
    assert "Jonas Weber" not in result.text and "Ana Ferreira" in result.text


def test_two_unknown_speakers_never_share_a_paragraph(generator):
    result = generator.generate("What was said about beef and car exports in the Mercosur "
                                "deal?", [UNKNOWN_A, UNKNOWN_B])
    paragraphs = [p for p in result.text.split("\n\n") if p.startswith("**unknown**")]
    assert len(paragraphs) == 2
    for paragraph in paragraphs:
        numbers = {int(x) for x in paragraph.split("[")[1:] for x in [x.split("]")[0]]}
        assert len(numbers) == 1, paragraph


def test_only_the_chair_means_no_answer(generator):
    assert generator.generate("What is the debate about Mercosur?", [CHAIR]).refused


def test_hint_containment_normalises_numbers_and_needs_every_fact():
    assert normalise("EUR 10,000 and €12 000 per cent") == "eur 10000 and eur 12000%"
    assert contains_hint("“The quota is 99 000 tonnes” [1]", "99,000 tonnes")
    assert not contains_hint("“The quota is 990,000 tonnes” [1]", "99,000")
    assert contains_hint("**Ines Valkonen**: “our forests are a sink”", "Valkonen; sink")
    assert not contains_hint("**Ines Valkonen**: “our forests”", "Valkonen; sink")
    assert contains_hint("**Barry Andrews (Renew)**: “EUR 500 billion of damage to Ukraine”",
                         "an estimated EUR 500 billion of damage (Barry Andrews, Renew)")


@pytest.fixture(scope="module")
def tiny_home(tmp_path_factory):
    from conftest import TINY, write_jsonl

    home = tmp_path_factory.mktemp("answers-home")
    corpus = write_jsonl(home / "tiny.jsonl", TINY)
    env = {"HEMICYCLE_HOME": str(home / "home")}
    run_cli("ingest", str(corpus), "--no-progress", env=env, check=True)
    return env


@pytest.mark.slow
def test_chat_resolves_a_follow_up_from_stdin(tiny_home):
    lines = ["What did the Greens argue against the Mercosur deal?", "and what did the S&D say?",
             "/sources", "/filters party=ECR", "/filters bad", "/quit", "never asked"]
    proc = subprocess.run([sys.executable, "-c", "from ui.cli import main; main()", "chat"],
                          input="\n".join(lines) + "\n", capture_output=True, text=True,
                          env={**__import__("os").environ, **tiny_home}, timeout=300)
    out = proc.stdout
    assert proc.returncode == 0, proc.stderr
    assert "(understood as: and what did the S&D say? (context:" in out
    assert "Mercosur deal?)" in out.split("(understood as:")[1].splitlines()[0]
    follow = out.split("(understood as:")[1]
    assert "Marta Kowalczyk" in follow and "Jonas Weber" not in follow.split("Sources:")[0]
    assert "[1] Marta Kowalczyk (S&D)" in follow  # /sources
    assert "filters: group ECR" in out and "error: expected KEY=VALUE" in out
    assert "never asked" not in out


@pytest.mark.slow
def test_ask_with_a_history_file_takes_a_follow_up_and_saves_it(tiny_home, tmp_path):
    history = tmp_path / "turns.jsonl"
    history.write_text(json.dumps({"question": "What did the Greens argue against the "
                                   "Mercosur deal?", "answer": "…"}) + "\n", encoding="utf-8")
    proc = run_cli("ask", "and what did the S&D say?", "--history", str(history), "--save",
                   "--json", env=tiny_home, check=True)
    data = json.loads(proc.stdout)
    assert "Mercosur" in data["standalone_question"]
    assert data["citations"][0]["speaker"] == "Marta Kowalczyk"
    saved = [json.loads(line) for line in history.read_text("utf-8").splitlines()]
    assert len(saved) == 2 and saved[1]["question"] == "and what did the S&D say?"
    bad = run_cli("ask", "x", "--save", env=tiny_home)
    assert bad.returncode == 1 and "--save needs --history" in bad.stderr


@pytest.mark.slow
def test_search_scores_share_one_scale_for_every_retriever(tiny_home):
    from pathlib import Path

    from ingest.settings import Settings
    from rag.scores import scaled
    from ui.services import Services

    retriever = Services(Settings(home=Path(tiny_home["HEMICYCLE_HOME"]))).retriever()
    for mode in ("dense", "bm25", "hybrid"):
        hits = retriever.search("beef quota deforestation", k=5, mode=mode)
        scales = scaled(hits)
        assert scales[0]["relevance"] == 1.0 and hits[0].record.speech_id == "t-003", mode
        assert all(0.0 <= s["relevance"] <= 1.0 and 0.0 <= s["bm25_relative"] <= 1.0
                   for s in scales), mode
        assert [s["relevance"] for s in scales] == sorted((s["relevance"] for s in scales),
                                                          reverse=True)
    hits = json.loads(run_cli("search", "beef quota", "--k", "2", "--retriever", "bm25",
                              "--json", env=tiny_home, check=True).stdout)
    assert hits[0]["relevance"] == 1.0 and hits[0]["bm25_relative"] == 1.0
    assert hits[0]["score"] > 1.0 and "dense_score" in hits[0]  # raw fields kept
    text = run_cli("search", "beef quota", "--k", "1", env=tiny_home, check=True).stdout
    assert text.startswith("[1] relevance 1.00 · cosine 0.")


def test_a_comparison_is_between_groups_not_any_use_of_the_word():
    from rag.comparison import is_comparison

    assert is_comparison("How did the EPP and the Greens differ on Mercosur?")
    assert is_comparison("How did the groups differ on the Parenthood Regulation?")
    assert not is_comparison("What comparison with fighter jets did the Commissioner make?")
    assert not is_comparison("What did Lukas Mandl compare the founding of the regime with?")


def test_terminal_reader_edits_completes_and_keeps_history_across_sessions(tmp_path):
    """The prompt_toolkit reader of ``hemicycle chat`` fed through a pipe input: a completed
    / command, a line edited with the arrow keys, the history of an earlier session."""
    import threading

    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput

    from ui.terminal import make_reader

    history = tmp_path / "home" / "chat-history"
    with create_pipe_input() as pipe:
        read = make_reader(history, input=pipe, output=DummyOutput())
        pipe.send_text("/sou\t")  # Tab completes the command (asynchronously: Enter later)
        threading.Timer(0.5, pipe.send_text, ["\r"]).start()
        assert read("> ") == "/sources"
        pipe.send_text("what did the Greens say\x1b[D\x1b[D\x1b[Dxx \r")  # ← ×3, insert
        assert read("> ") == "what did the Greens xx say"
        pipe.send_text("\x04")  # Ctrl-D on an empty line ends the session
        with pytest.raises(EOFError):
            read("> ")
    with create_pipe_input() as pipe:  # a new session: ↑ recalls the last question
        read = make_reader(history, input=pipe, output=DummyOutput())
        pipe.send_text("\x1b[A\r")
        assert read("> ") == "what did the Greens xx say"


@pytest.mark.slow
def test_bench_query_times_every_mode_in_a_fresh_query_process(tiny_home):
    """``hemicycle bench query`` on the current collection: each mode timed, and the peak RSS
    of the spawned query process (it loads the embedder and the mirror, nothing else)."""
    proc = run_cli("bench", "query", "--scale", "0", "--rounds", "1", "--json", env=tiny_home,
                   check=True)
    figures = json.loads(proc.stdout)["current collection"]
    stats = json.loads(run_cli("stats", "--json", env=tiny_home, check=True).stdout)
    assert figures["chunks"] == stats["chunks"]
    for mode in ("hybrid", "hybrid+filters", "dense", "bm25"):
        assert figures[mode]["n"] == 16 and 0 < figures[mode]["p50_ms"] <= figures[mode]["p95_ms"]
    assert 150 < figures["query_process_peak_rss_mb"] < 3000


def test_scaled_bench_copies_are_near_duplicates_not_identical_points(embedder):
    """``bench query``'s copies reuse their original's vector moved by seeded noise, so the
    HNSW index of a scaled corpus holds distinct points (cosine ~0.95 to the original)."""
    import numpy as np

    from eval.scale import ReplayEmbedder

    replay = ReplayEmbedder(embedder, jitter=0.017)
    texts = ["Farm debate — Ana: fair prices for farmers.",
             "Farm debate [copy 3] — Ana: fair prices for farmers.",
             "Farm debate [copy 4] — Ana: fair prices for farmers."]
    original, copy3, copy4 = replay.encode(texts)
    assert np.allclose(original, embedder.encode(texts[:1])[0], atol=1e-5)
    assert np.allclose([np.linalg.norm(copy3), np.linalg.norm(copy4)], 1.0, atol=1e-5)
    assert 0.93 < float(original @ copy3) < 0.97 and float(copy3 @ copy4) < 0.95
    assert np.array_equal(replay.encode(texts[1:2])[0], copy3)  # seeded by the text
    assert np.array_equal(ReplayEmbedder(embedder).encode(texts[1:2])[0], original)
