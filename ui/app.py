"""Hemicycle's Streamlit app: ``hemicycle ui`` (or ``streamlit run ui/app.py``)."""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

if __package__ in (None, ""):  # run by `streamlit run ui/app.py`: make `ui` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PAGES = Path(__file__).resolve().parent / "pages"

st.set_page_config(page_title="Hemicycle", page_icon="🏛️", layout="wide")
navigation = st.navigation([
    st.Page(str(PAGES / "chat.py"), title="Chat", icon="💬", default=True),
    st.Page(str(PAGES / "corpus.py"), title="Corpus", icon="📊"),
    st.Page(str(PAGES / "evaluation.py"), title="Evaluation", icon="⚖️"),
])
navigation.run()
