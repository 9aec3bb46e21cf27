"""Plotly figures of a corpus map, shared by the Explore page and ``hemicycle explore``.

Corpus text reaches plotly only HTML-escaped (plotly renders tags in hover text, titles
and annotations).  One trace per colour value, so the legend toggles groups; each point
carries its point number as ``customdata``, which is how selections map back to passages.
"""

from __future__ import annotations

import html
from collections import Counter
from pathlib import Path
from typing import Any

from rag.clusters import Cluster
from rag.explore import COLOR_KEYS, CorpusMap, GroupPosition, QueryPlacement, color_value
from rag.index import CorpusIndex

__all__ = ["map_figure", "point_colors", "positions_figure", "selected_points", "selection_rows",
           "breakdown", "write_html", "first_words"]

_WEBGL_FROM = 2000  # SVG below this many points (works everywhere), WebGL above
_PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
            "#7f7f7f", "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39",
            "#7b4173", "#3182bd", "#e6550d", "#31a354", "#756bb1", "#636363")
_MAX_LEGEND = 20  # more values than this (speakers, debates): the rest are grouped


def first_words(text: str, n: int = 25) -> str:
    words = text.split()
    return " ".join(words[:n]) + (" …" if len(words) > n else "")


def _hover(record: Any) -> str:
    who = record.speaker + (f" ({record.party})" if record.party else "")
    lines = [f"<b>{html.escape(who)}</b>", f"{record.date} · {html.escape(record.debate_title)}"]
    stance = getattr(record, "stance", None)
    if stance:
        lines.append(f"stance: {html.escape(str(stance))}")
    words = first_words(record.text)
    lines += [html.escape(words[i:i + 80]) for i in range(0, min(len(words), 240), 80)]
    return "<br>".join(lines)


def point_colors(corpus_map: CorpusMap, index: CorpusIndex, color_by: str) -> list[str]:
    """The legend value of every point (values past the 20 largest become 'other')."""
    values = [color_value(corpus_map.record(index, i), color_by) for i in range(len(corpus_map))]
    counts = Counter(values)
    if len(counts) > _MAX_LEGEND:
        keep = {v for v, _ in counts.most_common(_MAX_LEGEND - 1)}
        values = [v if v in keep else "other" for v in values]
    return values


def map_figure(corpus_map: CorpusMap, index: CorpusIndex, color_by: str = "party",
               clusters: list[Cluster] | None = None,
               placement: QueryPlacement | None = None, year: int | None = None,
               title: str | None = None) -> Any:
    """The map: one trace per colour value, cluster names, the query and its hits."""
    import plotly.graph_objects as go

    values = point_colors(corpus_map, index, color_by)
    shown = [i for i in range(len(corpus_map))
             if year is None or corpus_map.record(index, i).year == year]
    scatter = go.Scattergl if len(shown) > _WEBGL_FROM else go.Scatter
    fig = go.Figure()
    order = sorted(set(values), key=lambda v: (v in ("—", "other"), v))
    for n, value in enumerate(order):
        members = [i for i in shown if values[i] == value]
        if not members:
            continue
        fig.add_trace(scatter(
            x=corpus_map.coords[members, 0], y=corpus_map.coords[members, 1], mode="markers",
            name=html.escape(value), customdata=members, legendgroup=value,
            marker={"size": 6, "opacity": 0.75, "color": _PALETTE[n % len(_PALETTE)]},
            hovertext=[_hover(corpus_map.record(index, i)) for i in members],
            hoverinfo="text"))
    for cluster in clusters or []:
        if cluster.words:
            fig.add_annotation(x=cluster.x, y=cluster.y, text=html.escape(cluster.name),
                               showarrow=False, font={"size": 11, "color": "#222"},
                               bgcolor="rgba(255,255,255,0.7)")
    if placement is not None:
        hx = [xy[0] for xy in placement.hit_xy]
        hy = [xy[1] for xy in placement.hit_xy]
        fig.add_trace(go.Scatter(
            x=hx, y=hy, mode="markers+text", name="Retrieved", text=[str(h.rank) for h in
                                                                     placement.hits],
            textposition="top center", customdata=placement.hit_points,
            marker={"size": 14, "color": "rgba(0,0,0,0)", "line": {"width": 2, "color": "#000"}},
            hovertext=[_hover(h.record) for h in placement.hits], hoverinfo="text"))
        fig.add_trace(go.Scatter(
            x=[placement.xy[0]], y=[placement.xy[1]], mode="markers", name="Query",
            marker={"symbol": "star", "size": 20, "color": "#d00", "line": {"width": 1}},
            hovertext=[html.escape(placement.query)], hoverinfo="text", customdata=[-1]))
    pad = 2.0
    xs, ys = corpus_map.coords[:, 0], corpus_map.coords[:, 1]
    fig.update_layout(
        title=html.escape(title) if title else None, height=700, dragmode="lasso",
        legend={"title": {"text": COLOR_KEYS.get(color_by, color_by)}, "itemsizing": "constant"},
        xaxis={"range": [float(xs.min()) - pad, float(xs.max()) + pad], "visible": False},
        yaxis={"range": [float(ys.min()) - pad, float(ys.max()) + pad], "visible": False},
        margin={"l": 10, "r": 10, "t": 40 if title else 10, "b": 10})
    return fig


def positions_figure(positions: list[GroupPosition], title: str | None = None) -> Any:
    """Each group's centroid, with a circle of radius ``spread`` around it."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for n, pos in enumerate(positions):
        color = _PALETTE[n % len(_PALETTE)]
        fig.add_shape(type="circle", x0=pos.x - pos.spread, x1=pos.x + pos.spread,
                      y0=pos.y - pos.spread, y1=pos.y + pos.spread,
                      line={"color": color}, fillcolor=color, opacity=0.12)
        fig.add_trace(go.Scatter(
            x=[pos.x], y=[pos.y], mode="markers+text", name=html.escape(pos.group),
            text=[html.escape(pos.group)], textposition="top center",
            marker={"size": 8 + min(pos.n, 40) // 2, "color": color},
            hovertext=[f"{html.escape(pos.group)}: {pos.n} points, spread {pos.spread:.2f}"],
            hoverinfo="text"))
    fig.update_layout(title=html.escape(title) if title else None, height=450,
                      xaxis={"visible": False}, yaxis={"visible": False, "scaleanchor": "x"})
    return fig


def selected_points(event: Any) -> list[int]:
    """Point numbers of a ``st.plotly_chart(on_select=...)`` event, in map order."""
    if not event:
        return []
    selection = event.get("selection", event) if hasattr(event, "get") else event.selection
    points = selection.get("points", []) if hasattr(selection, "get") else selection.points
    chosen = set()
    for point in points:
        data = point.get("customdata")
        if isinstance(data, list):
            data = data[0] if data else None
        if data is not None and int(data) >= 0:
            chosen.add(int(data))
    return sorted(chosen)


def selection_rows(corpus_map: CorpusMap, index: CorpusIndex,
                   points: list[int]) -> list[dict[str, Any]]:
    """One table row per selected point."""
    rows = []
    for i in points:
        r = corpus_map.record(index, i)
        row = {"point": i, "speaker": r.speaker, "group": r.party or "—", "date": r.date,
               "debate": r.debate_title, "language": r.language, "speech_id": r.speech_id,
               "passage": first_words(r.text, 30)}
        if getattr(r, "stance", None):
            row["stance"] = r.stance
        rows.append(row)
    return rows


def breakdown(rows: list[dict[str, Any]], key: str) -> dict[str, int]:
    return dict(Counter(row.get(key, "—") for row in rows).most_common())


def write_html(fig: Any, path: Path) -> Path:
    """A standalone HTML file (plotly.js inlined: opens offline)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.write_html(str(path), include_plotlyjs=True, full_html=True)
    return path


def export_map(services: Any, out: Path, spec: Any, color_by: str = "party",
               query: str | None = None, k: int = 10, filters: Any = None,
               collection: str | None = None, clusters: bool = True,
               namer: str | None = None) -> dict[str, Any]:
    """``hemicycle explore``: the map (with the query, if any) written to a standalone HTML
    file; returns what was drawn.  ``namer``: an LLM spec that names the clusters (a failed
    call keeps the word labels and puts a ``warning`` in the result)."""
    from ingest.errors import InputError
    from rag.cluster_names import cluster_namer, name_clusters
    from rag.clusters import label_clusters
    from rag.explore import build_map, color_keys, map_cache_dir, place_query

    client = cluster_namer(namer, services.settings) if namer and clusters else None
    index = services.index(collection)
    if len(index) == 0:
        raise InputError("the index is empty: ingest something first (hemicycle ingest ...)")
    keys = color_keys(index)
    if color_by not in keys:
        raise InputError(f"cannot colour by {color_by!r}; choose one of {', '.join(keys)}")
    corpus_map = build_map(index, spec, map_cache_dir(services.settings, collection), filters)
    texts = [corpus_map.record(index, i).text for i in range(len(corpus_map))]
    labels, named = label_clusters(corpus_map.coords, texts) if clusters else (None, [])
    warning = None
    if client is not None:
        named, warning = name_clusters(named, labels, corpus_map.coords, texts, client)
    placement = place_query(corpus_map, index, services.retriever(collection), query, k=k,
                            filters=filters) if query else None
    title = f"{len(corpus_map)} {spec.unit}s · {spec.method}" + (
        f" · perplexity {spec.perplexity:g}" if spec.method == "tsne" else "")
    write_html(map_figure(corpus_map, index, color_by, named, placement, title=title), out)
    return {"out": str(out), "points": len(corpus_map), "method": spec.method,
            "unit": spec.unit, "cached": corpus_map.cached,
            "seconds": round(corpus_map.seconds, 2), "clusters": [c.name for c in named],
            "retrieved": [h.record.chunk_id for h in placement.hits] if placement else [],
            "warning": warning}
