"""The Streamlit app with ``AppTest``: real index, real embedder, real assistant."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from fake_llm import Status
from ingest.pipeline import ingest_paths
from ingest.store import open_client
from ui.common import highlight, md_escape, safe_markdown

APP = str(Path(__file__).resolve().parents[1] / "ui" / "app.py")


@pytest.fixture
def app(settings, embedder, tiny_corpus):
    ingest_paths(settings, [tiny_corpus], embedder, open_client(settings))
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    assert not at.exception
    return at


def _ask(at: AppTest, question: str) -> AppTest:
    at.chat_input[0].set_value(question).run()
    assert not at.exception
    return at


def _markdown(at: AppTest) -> list[str]:
    """Markdown shown, with the escaping of corpus text undone for readable assertions."""
    return [m.value.replace("\\", "") for m in at.markdown]


def test_chat_answers_with_citation_cards(app):
    _ask(app, "What did the Greens say about the beef quota and deforestation?")
    texts = _markdown(app)
    answer = next(t for t in texts if "[1]" in t and "Jonas Weber" in t)
    assert "99,000 tonnes" in answer
    card = next(t for t in texts if t.startswith("**[1] Jonas Weber"))
    assert "Greens/EFA" in card and "2023" in card
    assert any("**The beef quota of 99,000 tonnes" in t for t in texts)
    assert any(m.value.startswith("**[1] Jonas Weber \\(Greens/EFA\\)**") for m in app.markdown)  # quote highlighted
    assert app.expander and app.expander[0].label == "Whole speech"
    assert "extractive" in app.caption[0].value


def test_group_filter_changes_the_sources(app):
    app.sidebar.multiselect(key="groups").set_value(["ECR"]).run()
    _ask(app, "What was said about surveillance and facial recognition?")
    cards = [t for t in _markdown(app) if t.startswith("**[")]
    assert cards and all("(ECR)" in card for card in cards)
    assert any("Karel Nov" in card for card in cards)


def test_off_topic_question_is_refused(app):
    _ask(app, "What is the best lasagna recipe?")
    assert app.info and "do not address" in app.info[0].value
    assert not [t for t in _markdown(app) if t.startswith("**[")]


def test_follow_up_uses_the_history(app):
    _ask(app, "What did the Greens argue against the Mercosur deal?")
    _ask(app, "and what did the S&D say?")
    cards = [t for t in _markdown(app) if t.startswith("**[")]
    assert any("Marta Kowalczyk (S&D)" in card for card in cards)
    assert len(app.session_state["messages"]) == 4


def test_generator_picker_lists_only_configured_generators(app, monkeypatch):
    assert app.sidebar.selectbox(key="generator").options == ["extractive"]
    monkeypatch.setenv("GROQ_API_KEY", "test-key")
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    assert at.sidebar.selectbox(key="generator").options == [
        "extractive", "groq:llama-3.3-70b-versatile"]


def test_corpus_page_shows_statistics_and_searches(app):
    app.switch_page("pages/corpus.py").run()
    assert not app.exception
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Speeches"] == "10" and metrics["Debates"] == "3"
    app.text_input(key="corpus_query").set_value("beef quota").run()
    assert any("Jonas Weber" in t for t in _markdown(app))


def test_empty_index_says_how_to_ingest(settings):
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception
    assert "hemicycle ingest data/corpus" in at.info[0].value


def test_corpus_text_cannot_inject_markdown():
    nasty = "Click [here](http://evil.example) ![x](http://evil.example/p.png) <b>bold</b>"
    assert "](" not in md_escape(nasty).replace("\\]\\(", "")
    assert highlight("Before. The quote [1](x). After.", "The quote [1](x).") == (
        "Before\\. **The quote \\[1\\]\\(x\\)\\.** After\\.")
    assert "![" not in safe_markdown("see ![img](http://x)")


def test_llm_generator_streams_through_the_configured_endpoint(settings, embedder, tiny_corpus,
                                                               fake_llm, monkeypatch):
    """The groq generator, picked in the sidebar, talks to HEMICYCLE_GROQ_BASE_URL (a local
    OpenAI/Groq-compatible server), streams, and its citations are checked and carded."""
    import re

    monkeypatch.setenv("GROQ_API_KEY", "test-key")
    monkeypatch.setenv("HEMICYCLE_GROQ_BASE_URL", fake_llm.base_url)
    ingest_paths(settings, [tiny_corpus], embedder, open_client(settings))

    def responder(body):
        if '<passage n="' in body["messages"][-1]["content"]:  # the listwise reranking
            return '{"order": [2, 1]}'
        if body["messages"][0]["content"].startswith("Rewrite"):  # a follow-up: standalone
            return body["messages"][-1]["content"].splitlines()[-1].removeprefix("User: ")
        n = re.search(r'<source n="(\d+)" speaker="Karel Novák"', body["messages"][-1]["content"])[1]
        return f"Karel Novák (ECR) wants police to use real-time facial recognition [{n}] [9]."

    fake_llm.responder = responder
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    at.sidebar.selectbox(key="generator").set_value("groq:llama-3.3-70b-versatile").run()
    _ask(at, "Who wants police to use facial recognition?")
    assert fake_llm.completions[-1].body["stream"] is True
    texts = _markdown(at)
    answer = next(t for t in texts if "real-time facial recognition [" in t)
    assert "[9]" not in answer  # a source that was not given is stripped
    assert any(t.startswith("**[") and "Karel Novák (ECR)" in t for t in texts)
    caption = at.caption[0].value
    assert "groq:llama-3.3-70b-versatile" in caption and "1 invalid citation" in caption
    assert "reranked" not in caption  # the LLM search steps are off by default

    at.sidebar.slider(key="rerank").set_value(3).run()
    _ask(at, "Which MEP wants police to use facial recognition?")
    rerank = [r for r in fake_llm.completions if '<passage n="' in r.prompt]
    assert len(rerank) == 1 and '<passage n="3"' in rerank[0].prompt
    assert "top 3 reranked by groq:llama-3.3-70b-versatile" in at.caption[-1].value
    at.sidebar.slider(key="rerank").set_value(0).run()

    fake_llm.script(Status(401))  # a rejected key: one clear message, the app keeps working
    _ask(at, "And what did the Greens say about surveillance?")
    assert at.error and "GROQ_API_KEY" in at.error[0].value
    at.sidebar.selectbox(key="generator").set_value("extractive").run()
    _ask(at, "What did the Greens say about biometric surveillance?")
    assert any("Jonas Weber" in t for t in _markdown(at))
