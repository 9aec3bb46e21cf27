"""What every Streamlit page shares: cached services and safe rendering of corpus text."""

from __future__ import annotations

import hashlib
import json
import re

from typing import Any

import streamlit as st

from ingest.errors import HemicycleError
from ingest.settings import Settings

from .services import Services, load_settings

__all__ = ["current_services", "services_and_index", "md_escape", "highlight", "safe_markdown"]

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$])")


@st.cache_resource(show_spinner="Loading the index and the embedder…")
def _services(fingerprint: str, _settings: Settings) -> Services:
    services = Services(_settings)
    services.embedder.encode_query("warm up")  # load the model once, not on the first question
    return services


def current_services() -> Services:
    """One Services per configuration (home, collection, keys…), shared by every session."""
    settings = load_settings()
    settings = settings.model_copy(update={"home": settings.home.resolve()})
    plain = settings.model_dump(mode="json")
    for key in ("groq_api_key", "openai_api_key"):
        secret = getattr(settings, key)
        plain[key] = hashlib.sha256(secret.get_secret_value().encode()).hexdigest() \
            if secret is not None else None
    return _services(json.dumps(plain, sort_keys=True), settings)


def services_and_index() -> tuple[Services, Any]:
    """The services and the collection's mirror; the page stops with one line if there is
    none to show (a configuration error, or an empty index)."""
    try:
        services = current_services()
        index = services.index()
    except HemicycleError as exc:
        st.error(str(exc))
        st.stop()
    if len(index) == 0:
        st.info("The index is empty. Ingest the sample corpus with "
                "`hemicycle ingest data/corpus`.")
        st.stop()
    return services, index


def md_escape(text: str) -> str:
    """Corpus and model text shown as literal text inside markdown (no links, no HTML)."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def highlight(passage: str, quote: str) -> str:
    """The passage as escaped markdown with the quoted sentence in bold."""
    start = passage.find(quote) if quote else -1
    if start < 0 or quote == passage:
        return md_escape(passage)
    end = start + len(quote)
    return (md_escape(passage[:start]) + "**" + md_escape(quote).strip() + "**"
            + md_escape(passage[end:]))


def safe_markdown(text: str) -> str:
    """Model or generated text as markdown, with links and images made inert."""
    return text.replace("![", "!\\[").replace("](", "]\\(")
