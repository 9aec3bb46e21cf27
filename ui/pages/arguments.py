"""Arguments page: who argued what, for or against, in whose exact words."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from ingest.arguments import STANCES, TOPICS
from ingest.errors import HemicycleError
from ui.arguments import speech_results, stance_matrix
from ui.common import current_services, md_escape

st.title("Arguments")
try:
    services = current_services()
    results = speech_results(services)
except HemicycleError as exc:
    st.error(str(exc))
    st.stop()

if not results:
    st.info("No arguments yet. Extract them with `hemicycle enrich` (offline: "
            "`hemicycle enrich --provider heuristic`).")
    st.stop()

debates = {f"{s.debate_title} ({s.date})": s.debate_id for s, _, _ in results}
with st.sidebar:
    st.header("Arguments")
    debate = st.selectbox("Debate", ["All debates", *debates], key="arg_debate")
    topics = st.multiselect("Topics", list(TOPICS), key="arg_topics")
    groups = st.multiselect("Political groups", sorted({s.party for s, _, _ in results
                                                        if s.party}), key="arg_groups")
    dates = sorted(s.date for s, _, _ in results)
    first, last = dt.date.fromisoformat(dates[0]), dt.date.fromisoformat(dates[-1])
    span = st.date_input("Dates", (first, last), min_value=first, max_value=last,
                         key="arg_dates")

date_from, date_to = span if isinstance(span, tuple) and len(span) == 2 else (first, last)
chosen = [(s, a, o) for s, a, o in results
          if (debate == "All debates" or s.debate_id == debates[debate])
          and (not topics or set(topics) & set(a.topics))
          and (not groups or s.party in groups)
          and date_from.isoformat() <= s.date <= date_to.isoformat()]

providers = sorted({a.provider for _, a, _ in chosen})
st.caption(f"{len(chosen)} speeches · extracted by {', '.join(providers) or '—'} · every "
           "quote is verbatim from the speech")
if "heuristic" in providers:
    st.warning("provider=heuristic: claims are the speeches' most central argumentative "
               "sentences and stances come from cue phrases (no LLM). Check before citing.")

st.subheader("Group × stance")
matrix = stance_matrix(chosen)
st.table({"group": list(matrix), **{s: [matrix[g][s] for g in matrix] for s in STANCES}})

st.subheader("Claims by group and stance")
by_group: dict[tuple[str, str], list] = {}
for speech, args, start in chosen:
    by_group.setdefault((speech.party or "(no group)", args.stance), []).append(
        (speech, args, start))
for (group, stance), items in sorted(by_group.items()):
    st.markdown(f"**{md_escape(group)} · {stance}** ({len(items)} speeches)")
    for speech, args, start in items:
        for claim in args.claims:
            label = f"{speech.speaker}: {claim.claim}"
            with st.expander(label[:200]):
                st.caption(f"{speech.date} · {speech.debate_title} · {claim.match} match · "
                           f"topics: {', '.join(args.topics)}")
                a, b = claim.char_start - start, claim.char_end - start
                text = speech.text
                st.markdown(md_escape(text[:a]) + "**" + md_escape(text[a:b]).strip() + "**"
                            + md_escape(text[b:]))
