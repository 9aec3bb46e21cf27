"""Chat page: questions in, answers with numbered, verifiable citations out."""

from __future__ import annotations

import dataclasses
import datetime as dt

import streamlit as st

from ingest.arguments import STANCES, TOPICS
from ingest.errors import HemicycleError
from rag.answer import Answer, Turn
from rag.filters import SearchFilters
from rag.generators import available_generators
from rag.llmsearch import SearchOptions
from ui.arguments import speech_arguments
from ui.common import highlight, md_escape, safe_markdown, services_and_index

st.title("Ask the European Parliament's debates")

services, index = services_and_index()

messages: list[dict] = st.session_state.setdefault("messages", [])

# -- sidebar: generator and filters ------------------------------------------------------------
with st.sidebar:
    st.header("Answering")
    generator = st.selectbox("Generator", available_generators(services.settings), key="generator")
    mode = st.radio("Retriever", ["hybrid", "dense", "bm25"], horizontal=True, key="mode")
    k = st.slider("Sources", 1, 15, services.settings.top_k, key="k")
    search_llm = services.settings.search_llm or (generator if generator != "extractive"
                                                  else None)
    if search_llm:  # the LLM steps around retrieval (rag/llmsearch.py), off by default
        with st.expander(f"LLM search steps ({search_llm})"):
            rewrite = st.checkbox("Rewrite the question as a search query",
                                  services.settings.search_rewrite, key="rewrite")
            queries = st.slider("Alternative queries (multi-query)", 0, 5,
                                services.settings.search_queries, key="queries")
            rerank = st.slider("Rerank the top N passages", 0, 30,
                               min(services.settings.search_rerank, 30), key="rerank")
        search = SearchOptions(rewrite, queries, rerank)
    else:
        search = SearchOptions()
    st.header("Filters")
    groups = st.multiselect("Political groups", [p for p in index.parties if p], key="groups")
    speakers = st.multiselect("Speakers", index.speaker_names, key="speakers")
    dates = sorted(r.date for r in index.records)
    first, last = dt.date.fromisoformat(dates[0]), dt.date.fromisoformat(dates[-1])
    span = st.date_input("Dates", (first, last), min_value=first, max_value=last, key="dates")
    titles = {f"{title} ({date})": debate_id
              for debate_id, (title, date) in sorted(index.debate_titles.items(),
                                                     key=lambda kv: kv[1][1])}
    debates = st.multiselect("Debates", list(titles), key="debates")
    stances = st.multiselect("Stance (enriched speeches)", STANCES, key="stances")
    topics = st.multiselect("Topics (enriched speeches)", list(TOPICS), key="topics")
    if st.button("Clear conversation", key="clear"):
        messages.clear()

date_from, date_to = (span if isinstance(span, tuple) and len(span) == 2 else (None, None))
filters = SearchFilters.build(
    groups, [], date_from if date_from != first else None, date_to if date_to != last else None,
    [titles[d] for d in debates], stances, topics)
if speakers:
    filters = dataclasses.replace(filters, speakers=tuple(speakers))


def show_answer(answer: Answer) -> None:
    """Answer text (already shown when streamed), then the citation cards."""
    if answer.refused:
        st.info(answer.answer)
        return
    for c in answer.citations:
        with st.container(border=True):
            who = c.speaker + (f" ({c.party})" if c.party else "")
            role = f", {c.role}" if c.role and c.role not in ("MEP", c.speaker) else ""
            if c.translated:
                role += f" — translated from {c.original_language} (not a verbatim quote)"
            st.markdown(f"**[{c.n}] {md_escape(who)}**{md_escape(role)} — {c.date} — "
                        f"*{md_escape(c.debate_title)}*")
            st.markdown(highlight(c.passage, c.quote))
            arguments = speech_arguments(services, c.speech_id)
            if arguments is not None:
                st.caption(f"stance: {arguments.stance} · topics: {', '.join(arguments.topics)}"
                           f" · provider={arguments.provider}")
                for claim in arguments.claims:
                    st.markdown("- " + md_escape(claim.claim))
            with st.expander("Whole speech"):
                st.markdown(md_escape(index.speech_text(c.speech_id)))
    notes = [answer.generator, f"{answer.latency_s:.2f} s", f"filters: {answer.filters}"]
    if answer.invalid_citations_removed:
        notes.append(f"{answer.invalid_citations_removed} invalid citation(s) removed")
    if answer.prompt_tokens is not None:
        notes.append(f"{answer.prompt_tokens}+{answer.completion_tokens} tokens")
    st.caption(" · ".join(notes + answer.search_steps))


for message in messages:
    with st.chat_message(message["role"]):
        if message["role"] == "user":
            st.markdown(md_escape(message["content"]))
        else:
            answer = message["answer"]
            if not answer.refused:
                st.markdown(safe_markdown(answer.answer))
            show_answer(answer)

question = st.chat_input("e.g. What did the Greens argue against the Mercosur deal?")
if question:
    history = [Turn(m["answer"].question, m["answer"].answer, m["answer"].standalone_question)
               for m in messages if m["role"] == "assistant"]
    messages.append({"role": "user", "content": question})
    with st.chat_message("user"):
        st.markdown(md_escape(question))
    with st.chat_message("assistant"):
        final: list[Answer] = []
        try:
            assistant = services.assistant(generator, k=k, mode=mode, search=search)
            stream = assistant.ask_stream(question, history, filters)

            def deltas():
                for item in stream:
                    if isinstance(item, Answer):
                        final.append(item)
                    else:
                        yield item

            placeholder = st.empty()
            with placeholder:
                st.write_stream(deltas())
            answer = final[-1]
            if answer.refused:
                placeholder.empty()
            else:  # the checked text (invalid citations removed) replaces the stream
                placeholder.markdown(safe_markdown(answer.answer))
            show_answer(answer)
            messages.append({"role": "assistant", "content": answer.answer, "answer": answer})
        except HemicycleError as exc:
            messages.pop()
            st.error(str(exc))
