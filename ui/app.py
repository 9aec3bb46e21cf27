"""Hemicycle's Streamlit app: ``hemicycle ui`` (or ``streamlit run ui/app.py``)."""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

if __package__ in (None, ""):  # run by `streamlit run ui/app.py`: make `ui` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PAGES = Path(__file__).resolve().parent / "pages"

st.set_page_config(page_title="Hemicycle", page_icon=":material/account_balance:", layout="wide")
navigation = st.navigation([
    st.Page(str(PAGES / "chat.py"), title="Chat", icon=":material/chat:", default=True),
    st.Page(str(PAGES / "corpus.py"), title="Corpus", icon=":material/bar_chart:"),
    st.Page(str(PAGES / "arguments.py"), title="Arguments", icon=":material/balance:"),
    st.Page(str(PAGES / "explore.py"), title="Explore", icon=":material/scatter_plot:"),
    st.Page(str(PAGES / "evaluation.py"), title="Evaluation", icon=":material/leaderboard:"),
])
navigation.run()
