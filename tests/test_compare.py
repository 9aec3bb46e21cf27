"""Model comparison: retrieval metrics by hand, judge biases with scripted judges on the local
fake OpenAI/Groq server, caching, reports, the Evaluation page and the HTML in Chromium."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import write_jsonl
from test_browser import browser  # noqa: F401 - headless Debian Chromium fixture
from eval.compare import run_comparison
from eval.judge import length_controlled, self_preference
from eval.questions import Question, load_questions
from eval.ranking import diff_runs, score_mode
from eval.report import list_runs, write_reports
from fake_llm import extraction_responder, judge_responder
from ingest.errors import InputError
from ingest.pipeline import ingest_paths
from ingest.settings import Settings
from ingest.store import open_client
from ui.services import Services

ROOT = Path(__file__).resolve().parents[1]
TINY_QUESTIONS = [
    {"qid": "q1", "kind": "factual", "question": "How large is the beef quota in the "
     "Mercosur agreement and what will it do?", "gold_ids": ["t-003"]},
    {"qid": "q2", "kind": "speaker-position", "question": "What did Karel Novák argue about "
     "real-time facial recognition?", "gold_ids": ["t-009"]},
    {"qid": "q3", "kind": "factual", "question": "What will the Commission do with the "
     "pesticide reduction proposal?", "gold_ids": ["t-007"]},
    {"qid": "q4", "kind": "party-comparison", "question": "How did the EPP and the Greens "
     "differ on the Mercosur agreement?", "gold_ids": ["t-002", "t-003"]},
    {"qid": "u1", "kind": "unanswerable", "question": "What is the best recipe for lasagna?",
     "gold_ids": []},
]
B_ANSWER = "FAKE-B says the sources discuss this [1]."


def _q(qid: str, kind: str, gold: dict[str, int]) -> Question:
    return Question(qid=qid, question=qid, kind=kind, gold_ids=list(gold), relevant=gold)


def test_metrics_per_question_match_hand_computed_rankings():
    questions = [_q("f1", "factual", {"x": 2, "y": 1}), _q("f2", "factual", {"w": 1}),
                 Question(qid="u1", question="u1", kind="unanswerable", gold_ids=[]),
                 Question(qid="u2", question="u2", kind="unanswerable", gold_ids=[])]
    ranked = {"f1": {"ranked": ["z", "x", "y"], "best_dense": 0.6},
              "f2": {"ranked": ["a", "b", "c", "d", "e", "w"], "best_dense": 0.5},
              "u1": {"ranked": ["x"], "best_dense": 0.2},
              "u2": {"ranked": ["x"], "best_dense": 0.5}}
    scored = score_mode(questions, ranked, threshold=0.3)
    f1 = scored["per_question"]["f1"]
    idcg = 3 + 1 / 1.584962500721156
    assert f1["first_rank"] == 2 and f1["recall@1"] == 0 and f1["recall@5"] == 1.0
    assert f1["mrr@10"] == 0.5
    assert f1["ndcg@10"] == pytest.approx((3 / 1.584962500721156 + 1 / 2) / idcg, abs=1e-4)
    f2 = scored["per_question"]["f2"]
    assert f2["first_rank"] == 6 and f2["recall@5"] == 0 and f2["recall@10"] == 1.0
    assert f2["mrr@10"] == pytest.approx(1 / 6)
    assert scored["overall"]["recall@5"] == 0.5 and scored["overall"]["mrr@10"] == pytest.approx(
        (0.5 + 1 / 6) / 2, abs=1e-4)
    assert scored["unanswerable"]["refused_share"] == 0.5  # u1 below 0.3, u2 above
    assert scored["per_question"]["u1"]["refused"] is True
    later = {**ranked, "f1": {"ranked": ["x", "y"], "best_dense": 0.6}}
    changes = diff_runs({"modes": {"hybrid": scored}},
                        {"modes": {"hybrid": score_mode(questions, later, 0.3)}})
    assert [row["qid"] for row in changes["hybrid"]["better"]] == ["f1"]
    assert changes["hybrid"]["worse"] == []


def test_question_sets_validate_both_layouts(tmp_path):
    shipped = load_questions(ROOT / "data" / "eval" / "questions.jsonl")
    kinds = {q.kind for q in shipped}
    assert len(shipped) >= 50 and len(kinds) == 5
    assert sum(1 for q in shipped if q.kind == "unanswerable") >= 6
    legacy = load_questions(ROOT / "data" / "eval" / "retrieval-gold.jsonl")
    assert legacy[0].kind == "factual" and legacy[0].gold_ids
    bad = write_jsonl(tmp_path / "bad.jsonl", [{"qid": "x", "question": "?", "kind": "factual",
                                                "gold_ids": []}])
    with pytest.raises(InputError, match="bad.jsonl:1: .*unanswerable"):
        load_questions(bad)


def test_length_control_removes_a_pure_length_preference():
    diffs = [40, 35, 50, 20, 30, 45, 25, 60, -30, -40]  # A longer 8 times out of 10
    outcomes = ["a" if d > 0 else "b" for d in diffs]  # ... and the longer always wins
    lc = length_controlled(outcomes, diffs)
    assert 0.5 < lc < 0.8 - 0.05  # the raw win rate 0.8 is pulled towards 0.5
    assert length_controlled(["a", "b", "a", "b"], [10, 10, -10, -10]) == pytest.approx(0.5)


def test_self_preference_is_flagged():
    warnings = self_preference("groq:llama-3.3-70b-versatile",
                               ["groq:llama-3.1-8b-instant", "extractive"])
    assert len(warnings) == 1 and "family (llama)" in warnings[0]
    assert self_preference("groq:openai/gpt-oss-120b", ["groq:llama-3.1-8b-instant"]) == []


@pytest.fixture(scope="module")
def tiny_home(tmp_path_factory, embedder):
    from conftest import TINY

    home = tmp_path_factory.mktemp("compare-home")
    corpus = write_jsonl(home / "tiny.jsonl", TINY)
    settings = Settings(home=home, ingest_flush_chunks=8)
    ingest_paths(settings, [corpus], embedder, open_client(settings))
    return home


A_ANSWER = "Model A answers from the first source [1]."


def _answers(body: dict) -> str:
    return A_ANSWER if body.get("model") == "gen-a" else B_ANSWER


@pytest.fixture
def compare(tiny_home, embedder, fake_llm, tmp_path):
    """Runs a comparison of two fake LLM generators (A, B) with scripted judges."""
    settings = Settings(home=tiny_home, groq_api_key="k", groq_base_url=fake_llm.base_url,
                        openai_api_key="k", llm_timeout_s=5, llm_max_retries=0)
    services = Services(settings, _embedder=embedder)
    questions = [Question.model_validate(q) for q in TINY_QUESTIONS]

    def run(prefer: str, judges=("groq:judge-one",), answer=_answers):
        fake_llm.responder = judge_responder(prefer, answer)
        return run_comparison(services, questions, f"openai:gen-a@{fake_llm.openai_base_url}",
                              f"openai:gen-b@{fake_llm.openai_base_url}", list(judges),
                              cache_dir=tmp_path / "cache")
    return run


def test_first_shown_preference_gives_only_ties_and_two_judges_agree(compare):
    report = compare("first", judges=("groq:judge-one", "groq:judge-two"))
    stats = report["judged"]["groq:judge-one"]
    assert stats["pairs"] == 4 and stats["ties"] == 4 and stats["wins_a"] == stats["wins_b"] == 0
    assert stats["position_consistency"] == 0.0
    assert report["not_judged"] == 1  # the off-topic question is refused before generation
    assert report["metrics"]["a"]["refusal_accuracy_unanswerable"] == 1.0
    agreement = report["agreement"]
    assert agreement["pairs"] == 4 and agreement["cohen_kappa"] == 1.0
    assert agreement["disagreements"] == []


def test_judge_preferring_b_gives_b_the_win_caches_and_reports(compare, fake_llm, tmp_path):
    from streamlit.testing.v1 import AppTest

    report = compare("FAKE-B")
    stats = report["judged"]["groq:judge-one"]
    assert stats["wins_b"] == 4 and stats["win_rate_b"] == 1.0
    assert stats["ci95_b"][0] > 0.5 and stats["position_consistency"] == 1.0
    assert stats["criteria"]["b"]["faithfulness"] == 5 and stats["criteria"]["a"]["concision"] == 2
    assert report["requests"] == 8 + 8  # 4 answers each of A and B, 4 pairs in both orders
    sent = len(fake_llm.completions)
    again = compare("FAKE-B")
    assert again["requests"] == 0 and len(fake_llm.completions) == sent
    assert again["judged"] == report["judged"] and again["cache_hits"] == 16
    b = report["metrics"]["b"]
    assert b["citation_validity"] == 1.0 and b["answered_share_answerable"] == 1.0
    assert b["completion_tokens"] > 0

    report["pairs"][0]["a"]["text"] += " <script>alert(1)</script>"
    scores = dict.fromkeys(("recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10"), 0.5)
    (tmp_path / "home" / "reports").mkdir(parents=True)
    (tmp_path / "home" / "reports" / "retrieval.json").write_text(json.dumps(
        {"questions": 2, "modes": {"dense": {"overall": scores}, "bm25": {"overall": scores}}}))
    paths = write_reports(report, tmp_path / "home" / "reports")
    page = paths["html"].read_text("utf-8")
    assert "Retrieval metrics per retriever" in page and report["retrieval"]["questions"] == 2
    assert "&lt;script&gt;alert(1)" in page and "<script>alert(1)" not in page
    assert "plotly" in page and page.count("<tr>") >= 6
    assert "| win rate (ties half) | 0% [0%, 0%] | 100% [100%, 100%] |" in paths[
        "md"].read_text("utf-8")
    assert list_runs(tmp_path / "home" / "reports")[0]["run_id"] == report["run_id"]
    at = AppTest.from_file(str(ROOT / "ui" / "pages" / "evaluation.py"), default_timeout=60)
    at.run()
    assert not at.exception
    assert at.selectbox(key="eval_run").value == report["run_id"]
    at.selectbox(key="eval_qid").set_value("q2").run()
    texts = [m.value for m in at.markdown]
    assert any("FAKE\\-B says the sources" in t for t in texts)  # B's answer, escaped
    assert any("Karel Nov" in t for t in texts)  # a source of q2
    assert any(t.startswith("**Judge groq:judge\\-one: b**") for t in texts)


def test_unparseable_verdict_is_retried_once_then_recorded(compare):
    report = compare("garbage")
    stats = report["judged"]["groq:judge-one"]
    assert stats["failed"] == 4 and stats["pairs"] == 0
    assert report["requests"] == 8 + 4 * 2 * 2  # each order asked twice
    pair = report["pairs"][0]["judgements"]["groq:judge-one"]
    assert pair["outcome"] == "failed" and "not a valid Verdict" in pair["error"]


def test_longer_answer_bias_shows_in_the_length_controlled_rate(compare):
    def answer(body: dict) -> str:  # B is long on two questions, A on the two others
        question = str(body["messages"][-1]["content"]).rpartition("Question:")[2]
        long = "FAKE-B " + "the speakers said a great many things " * 30 + "[1]."
        b_long = "beef" in question or "pesticide" in question
        if body.get("model") == "gen-a":
            return "A short [1]." if b_long else "A " + "long answer words " * 20 + "[1]."
        return long if b_long else "FAKE-B short [1]."
    report = compare("longer", answer=answer)
    stats = report["judged"]["groq:judge-one"]
    assert stats["longer_answer_won_share"] == 1.0 and stats["win_rate_a"] == 0.5
    assert stats["length_controlled_win_rate_a"] != stats["win_rate_a"]


def test_without_judge_key_the_judge_free_metrics_still_run(tiny_home, embedder, fake_llm,
                                                            tmp_path):
    fake_llm.responder = judge_responder("first", B_ANSWER)
    settings = Settings(home=tiny_home, openai_api_key="k", llm_max_retries=0)
    services = Services(settings, _embedder=embedder)
    questions = [Question.model_validate(q) for q in TINY_QUESTIONS]
    report = run_comparison(services, questions, "extractive",
                            f"openai:gen-b@{fake_llm.openai_base_url}", ["groq:judge"],
                            cache_dir=tmp_path / "c")
    assert report["judge_skipped"] == ("judged part skipped: groq:judge needs an API key: "
                                       "set GROQ_API_KEY")
    assert report["judged"] == {} and report["requests"] == 4
    assert report["metrics"]["a"]["quotes_verbatim"] == 1.0  # extractive quotes are exact
    assert report["metrics"]["a"]["citation_support"] == 1.0
    with pytest.raises(InputError, match="same generator"):
        run_comparison(services, questions, "extractive", "extractive", [])


@pytest.mark.slow
@pytest.mark.browser
def test_html_report_opens_in_headless_chromium(compare, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    paths = write_reports(compare("FAKE-B"), tmp_path / "reports")
    browser.get(paths["html"].as_uri())
    WebDriverWait(browser, 60).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, ".plotly-graph-div .main-svg")) >= 4)
    rows = browser.find_elements(By.CSS_SELECTOR, "#pairs tbody tr")
    assert len(rows) == len(TINY_QUESTIONS)
    assert "FAKE-B says the sources discuss this [1]." in rows[0].text
    summary = rows[0].find_element(By.TAG_NAME, "summary")
    summary.click()
    assert "Jonas Weber" in rows[0].find_element(By.TAG_NAME, "details").text
    shot = tmp_path / "report.png"
    browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000


# -- --task arguments: two extractors on the same speeches ---------------------------------------
FIRST_SPEECHES = ["t-003", "t-001", "t-005", "t-002"]  # retrieved for q1, in rank order


@pytest.fixture
def compare_arguments(tiny_home, embedder, fake_llm, tmp_path):
    """heuristic (A) vs a fake LLM extractor (B, ``extraction_responder``) on 4 speeches."""
    settings = Settings(home=tiny_home, groq_api_key="k", groq_base_url=fake_llm.base_url,
                        openai_api_key="k", llm_timeout_s=5, llm_max_retries=0,
                        llm_rpm=10_000, llm_tpm=10_000_000)  # no free-tier pacing here
    services = Services(settings, _embedder=embedder)
    questions = [Question.model_validate(q) for q in TINY_QUESTIONS]

    def run(prefer: str, judge: str = "groq:judge-one", extract=extraction_responder):
        fake_llm.responder = judge_responder(prefer, extract)
        return run_comparison(services, questions, "heuristic",
                              f"openai:ext-b@{fake_llm.openai_base_url}", [judge], limit=4,
                              task="arguments", cache_dir=tmp_path / "cache")
    return run


def test_arguments_metrics_by_hand_b_wins_cache_report_and_page(compare_arguments, fake_llm,
                                                                 tmp_path):
    from streamlit.testing.v1 import AppTest

    report = compare_arguments("FAKE-B")
    assert [p["speech_id"] for p in report["pairs"]] == FIRST_SPEECHES
    a, b = report["metrics"]["a"], report["metrics"]["b"]
    # heuristic: its claims are its own sentences (t-003 2, chair t-001 0, t-005 3, t-002 2)
    assert a["claims_per_speech"] == 1.75 and a["quotes_proposed"] == 7
    assert a["quotes_verified_share"] == 1.0 and a["quotes_verbatim_share"] == 1.0
    # B: per speech one exact quote, one found only after normalising, one invented
    assert b["quotes_proposed"] == 12 and b["quotes_verified_share"] == pytest.approx(8 / 12,
                                                                                    abs=1e-4)
    assert b["quotes_verbatim_share"] == pytest.approx(4 / 12, abs=1e-4)
    assert b["claims_per_speech"] == 2.0 and b["failed"] == 0 and b["completion_tokens"] > 0
    # stances A: against, procedural, neutral, neutral; B: against, for, for, for
    agreement = report["extraction_agreement"]
    assert agreement["stance_agreement"] == 0.25
    assert agreement["stance_kappa"] == pytest.approx(0.2)  # (0.25 - 0.0625) / (1 - 0.0625)
    assert [d["speech_id"] for d in agreement["stance_disagreements"]] == FIRST_SPEECHES[1:]
    stats = report["judged"]["groq:judge-one"]
    assert stats["wins_b"] == 4 and stats["position_consistency"] == 1.0
    assert stats["ci95_b"][0] > 0.5
    assert report["requests"] == 4 + 8  # B's 4 extractions, 4 pairs judged in both orders
    sent = len(fake_llm.completions)
    again = compare_arguments("FAKE-B")
    assert again["requests"] == 0 and len(fake_llm.completions) == sent
    assert again["metrics"] == report["metrics"] and again["judged"] == report["judged"]

    reports = tmp_path / "home" / "reports"
    paths = write_reports(report, reports)
    summary = paths["md"].read_text("utf-8")
    assert "| mean quotes exact (1–5) | 2.000 | 4.000 |" in summary
    assert "Stances differ on: t-001 (A procedural, B for); t-005" in summary
    page = paths["html"].read_text("utf-8")
    assert "FAKE-B paraphrase of the opening" in page and "Per speech" in page
    assert "Share of proposed quotes found in the speech" in page
    assert list_runs(reports)[0]["task"] == "arguments"
    at = AppTest.from_file(str(ROOT / "ui" / "pages" / "evaluation.py"), default_timeout=60)
    at.run()
    assert not at.exception
    at.selectbox(key="eval_qid").set_value("t-003").run()
    texts = [m.value for m in at.markdown]
    assert any(t.startswith("1. FAKE\\-B paraphrase of the opening") for t in texts)
    assert "Stance: **against** · topics: trade" in texts
    assert any(t.startswith("**Judge groq:judge\\-one: b**") for t in texts)


def test_arguments_position_bias_failed_extraction_and_bad_verdict(compare_arguments):
    def extract(body: dict) -> str:  # B cannot answer about the Greens' speech
        prompt = " ".join(str(m.get("content", "")) for m in body["messages"])  # and the repair
        return "no JSON here" if "We Greens" in prompt else extraction_responder(body)

    report = compare_arguments("first", extract=extract)
    failed = report["pairs"][0]
    assert failed["speech_id"] == "t-003" and failed["b"]["status"] == "failed"
    assert failed["judgements"] == {} and report["metrics"]["b"]["failure_reasons"] == \
        "invalid_json: 1"
    stats = report["judged"]["groq:judge-one"]
    assert stats["pairs"] == 3 and stats["ties"] == 3 and stats["position_consistency"] == 0.0
    garbage = compare_arguments("garbage", judge="groq:judge-two", extract=extract)
    stats = garbage["judged"]["groq:judge-two"]
    assert stats["failed"] == 3 and stats["pairs"] == 0
    # each order asked twice; the failed extraction was not cached: asked again (and repaired)
    assert garbage["requests"] == 3 * 2 * 2 + 2
    assert "not a valid Verdict" in garbage["pairs"][1]["judgements"]["groq:judge-two"]["error"]


def test_cli_compare_arguments_and_bad_task(tiny_home, embedder, fake_llm, monkeypatch, capsys):
    import sys

    import ui.cli
    from ui.cli import main
    from ui.services import load_settings

    # the real entry point in this process, with the session's embedder (no second load)
    monkeypatch.setattr(ui.cli, "_services", lambda: Services(load_settings(), _embedder=embedder))

    def cli(*args: str) -> int:
        monkeypatch.setattr(sys, "argv", ["hemicycle", *args])
        with pytest.raises(SystemExit) as stopped:
            main()
        return stopped.value.code

    fake_llm.responder = extraction_responder
    questions = str(ROOT / "data" / "eval" / "questions.jsonl")
    assert cli("eval", "compare", questions, "--a", "heuristic", "--b", "x", "--task",
               "claims") == 1
    assert capsys.readouterr().err == ("hemicycle: error: unknown --task 'claims'; use answer "
                                       "or arguments\n")
    monkeypatch.setenv("HEMICYCLE_HOME", str(tiny_home))
    monkeypatch.setenv("HEMICYCLE_OPENAI_API_KEY", "k")
    assert cli("eval", "compare", questions, "--task", "arguments", "--a", "heuristic", "--b",
               f"openai:ext-b@{fake_llm.openai_base_url}", "--limit", "2") == 0
    out = capsys.readouterr().out
    assert "task arguments, 2 speeches" in out and "| quotes_verified_share | 1.000 | 0.667 |" in out
    assert len(fake_llm.completions) == 2
