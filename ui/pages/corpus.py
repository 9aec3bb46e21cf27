"""Corpus page: what is indexed, and a passage search box."""

from __future__ import annotations

import streamlit as st

from ingest.errors import HemicycleError
from ingest.state import Manifest
from rag.filters import SearchFilters
from ui.common import current_services, md_escape

st.title("Corpus")
try:
    services = current_services()
    manifest = Manifest(services.settings.state_path())
    try:
        stats = manifest.stats()
    finally:
        manifest.close()
except HemicycleError as exc:
    st.error(str(exc))
    st.stop()

if not stats["chunks"]:
    st.info("The index is empty. Ingest the sample corpus with `hemicycle ingest data/corpus`.")
    st.stop()

speeches, debates, chunks = st.columns(3)
speeches.metric("Speeches", stats["speeches"])
debates.metric("Debates", stats["debates"])
chunks.metric("Chunks", stats["chunks"])
by_party, by_year = st.columns(2)
by_party.subheader("Speeches by group")
by_party.bar_chart(stats["by_party"], horizontal=True)
by_year.subheader("Speeches by year")
by_year.bar_chart(stats["by_year"])

st.subheader("Search passages")
query = st.text_input("Search", key="corpus_query", placeholder="e.g. beef quota deforestation")
left, right = st.columns(2)
mode = left.radio("Retriever", ["hybrid", "dense", "bm25"], horizontal=True, key="corpus_mode")
k = right.slider("Results", 1, 20, 5, key="corpus_k")
if query.strip():
    try:
        hits = services.retriever().search(query, k=k, mode=mode, filters=SearchFilters())
    except HemicycleError as exc:
        st.error(str(exc))
        st.stop()
    if not hits:
        st.write("No passage found.")
    for hit in hits:
        r = hit.record
        with st.container(border=True):
            who = r.speaker + (f" ({r.party})" if r.party else "")
            st.markdown(f"**{md_escape(who)}** — {r.date} — *{md_escape(r.debate_title)}* "
                        f"· score {hit.score:.3f}")
            st.markdown(md_escape(r.text))
