"""The Streamlit app with ``AppTest``: real index, real embedder, real assistant."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

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
