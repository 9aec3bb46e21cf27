"""Explore page: the corpus as a map, coloured by group, debate, speaker, year or language,
with clusters named, the query placed on it and the retrieved passages highlighted."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from ingest.errors import HemicycleError
from rag.cluster_names import cluster_namer, name_clusters
from rag.clusters import label_clusters
from rag.explore import (COLOR_KEYS, MapSpec, build_map, color_keys, color_value,
                         group_positions, map_cache_dir, place_query)
from rag.filters import SearchFilters
from ui.common import md_escape, services_and_index
from ui.explore_plot import (breakdown, map_figure, positions_figure, selected_points,
                             selection_rows)

st.title("Explore the debates as a map")

services, index = services_and_index()


@st.cache_resource(show_spinner="Projecting the embeddings…", max_entries=8)
def _map(home: str, collection: str, version: str, spec: MapSpec, filters: SearchFilters,
         _index, _settings):
    corpus_map = build_map(_index, spec, map_cache_dir(_settings, collection), filters)
    texts = [corpus_map.record(_index, i).text for i in range(len(corpus_map))]
    return corpus_map, texts, *label_clusters(corpus_map.coords, texts, seed=spec.seed)


@st.cache_resource(max_entries=4)
def _namer(spec: str, _settings):
    return cluster_namer(spec, _settings)


def _namer_spec(settings) -> str | None:
    """The LLM that can name clusters: HEMICYCLE_EXPLORE_NAMER, else Groq with a key."""
    if settings.explore_namer:
        return settings.explore_namer
    return f"groq:{settings.groq_model}" if settings.groq_api_key is not None else None


# -- sidebar: the map's settings and the chat's filters ----------------------------------------
with st.sidebar:
    st.header("Map")
    method = st.radio("Projection", ["tsne", "pca"], horizontal=True, key="explore_method",
                      format_func={"tsne": "t-SNE", "pca": "PCA"}.get)
    unit = st.radio("Points", ["chunk", "speech"], horizontal=True, key="explore_unit",
                    format_func={"chunk": "passages", "speech": "speeches"}.get)
    sample = st.number_input("Sample (stratified by debate)", 10, 20_000, 5000, step=500,
                             key="explore_sample")
    perplexity = st.slider("Perplexity", 5, 50, 30, key="explore_perplexity",
                           disabled=method != "tsne")
    color_by = st.selectbox("Colour by", color_keys(index), key="explore_color",
                            format_func=COLOR_KEYS.get)
    show_clusters = st.toggle("Cluster names", True, key="explore_clusters")
    namer_spec = _namer_spec(services.settings)
    llm_names = namer_spec is not None and st.checkbox(
        "Name clusters with an LLM", bool(services.settings.explore_namer),
        key="explore_llm_names", disabled=not show_clusters, help=f"{namer_spec}: 2-5 words "
        "per cluster from its distinctive words and passages (cached)")
    st.header("Filters")
    groups = st.multiselect("Political groups", [p for p in index.parties if p],
                            key="explore_groups")
    speakers = st.multiselect("Speakers", index.speaker_names, key="explore_speakers")
    dates = sorted(r.date for r in index.records)
    first, last = dt.date.fromisoformat(dates[0]), dt.date.fromisoformat(dates[-1])
    span = st.date_input("Dates", (first, last), min_value=first, max_value=last,
                         key="explore_dates")
    titles = {f"{title} ({date})": debate_id
              for debate_id, (title, date) in sorted(index.debate_titles.items(),
                                                     key=lambda kv: kv[1][1])}
    debates = st.multiselect("Debates", list(titles), key="explore_debates")

date_from, date_to = (span if isinstance(span, tuple) and len(span) == 2 else (None, None))
try:
    filters = SearchFilters.build(
        groups, speakers, date_from if date_from != first else None,
        date_to if date_to != last else None, [titles[d] for d in debates])
    spec = MapSpec(method=method, sample=int(sample), perplexity=float(perplexity), unit=unit)
    settings = services.settings
    corpus_map, texts, labels, clusters = _map(str(settings.home), settings.collection,
                                               index.version, spec, filters, index, settings)
except HemicycleError as exc:
    st.error(str(exc))
    st.stop()
if show_clusters and llm_names:
    try:
        clusters, warning = name_clusters(clusters, labels, corpus_map.coords, texts,
                                          _namer(namer_spec, settings))
    except HemicycleError as exc:  # a bad spec or a missing key
        warning = str(exc)
    if warning:
        st.warning(warning)

# -- query on the map --------------------------------------------------------------------------
left, right = st.columns([3, 1])
query = left.text_input("Place a question on the map", key="explore_query",
                        placeholder="e.g. beef quota deforestation")
k = right.slider("Passages retrieved", 1, 20, 10, key="explore_k")
placement = None
if query.strip():
    try:
        placement = place_query(corpus_map, index, services.retriever(), query, k=k,
                                filters=filters)
    except HemicycleError as exc:
        st.error(str(exc))

years = sorted({corpus_map.record(index, i).year for i in range(len(corpus_map))})
year = st.select_slider("Year (same layout)", ["all"] + years, "all", key="explore_year") \
    if len(years) > 1 else "all"

fig = map_figure(corpus_map, index, color_by, clusters if show_clusters else None, placement,
                 year=None if year == "all" else int(year))
st.caption(f"{len(corpus_map)} {'passages' if unit == 'chunk' else 'speeches'} · "
           f"{'t-SNE (openTSNE)' if method == 'tsne' else 'PCA'} · "
           + ("from cache" if corpus_map.cached else f"built in {corpus_map.seconds:.1f} s")
           + " · box or lasso to select, click the legend to hide a group")
event = st.plotly_chart(fig, on_select="rerun", selection_mode=("points", "box", "lasso"),
                        key="explore_map", width="stretch")

if placement is not None:
    st.subheader("What retrieval sees")
    st.caption(f"The star is the question, placed with "
               f"{'openTSNE transform' if method == 'tsne' else 'PCA transform'} "
               f"in {placement.seconds:.2f} s; circled points are the passages search returns.")
    for hit, point in zip(placement.hits, placement.hit_points):
        r = hit.record
        where = "on the map" if point >= 0 else "outside the sample, placed"
        st.markdown(f"**[{hit.rank}] {md_escape(r.speaker)}** ({md_escape(r.party or '—')}) — "
                    f"{r.date} — *{md_escape(r.debate_title)}* · {where}")

# -- selection ---------------------------------------------------------------------------------
points = selected_points(event)
if points:
    st.subheader(f"{len(points)} selected")
    rows = selection_rows(corpus_map, index, points)
    by_group, by_other = st.columns(2)
    by_group.bar_chart(breakdown(rows, "group"), horizontal=True)
    other = "stance" if any("stance" in row for row in rows) else "debate"
    by_other.bar_chart(breakdown(rows, other), horizontal=True)
    table = st.dataframe(rows, on_select="rerun", selection_mode="single-row",
                         key="explore_table", hide_index=True,
                         column_order=[c for c in ("speaker", "group", "date", "debate",
                                                   "stance", "passage") if c in rows[0]])
    picked = table.selection.rows if table else []
    if picked:
        record = corpus_map.record(index, rows[picked[0]]["point"])
        with st.expander(f"Whole speech: {record.speaker}, {record.date}", expanded=True):
            st.markdown(md_escape(index.speech_text(record.speech_id)))
        if st.button("Ask about this speech in the chat", key="explore_ask"):
            st.session_state["speakers"] = [record.speaker]
            st.session_state["debates"] = [f"{record.debate_title} ({record.date})"]
            st.switch_page("pages/chat.py")

# -- group positions ---------------------------------------------------------------------------
st.subheader("Group positions")
scopes = {"All points": None}
for i in range(len(corpus_map)):
    record = corpus_map.record(index, i)
    scopes.setdefault(color_value(record, "debate"), []).append(i)
    topic = color_value(record, "topics")
    if topic != "—":
        scopes.setdefault(f"Topic: {topic}", []).append(i)
scope = st.selectbox("For one debate or topic", list(scopes), key="explore_scope")
positions = group_positions(corpus_map, index, "party", scopes[scope])
st.plotly_chart(positions_figure(positions), key="explore_positions", width="stretch")
st.dataframe([{"group": p.group, "points": p.n, "x": round(p.x, 2), "y": round(p.y, 2),
               "spread": round(p.spread, 2)} for p in positions], hide_index=True)
