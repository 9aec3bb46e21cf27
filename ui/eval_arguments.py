"""Evaluation page parts: the per-speech view of an extraction comparison (``eval compare
--task arguments``) and the judges' verdicts of one pair (shared with the answer view)."""

from __future__ import annotations

from typing import Any

import streamlit as st

from ui.common import md_escape

__all__ = ["show_verdicts", "show_speeches"]


def show_verdicts(pair: dict[str, Any]) -> None:
    """Each judge's final outcome and both orders' winners with reasons."""
    for judge, verdict in pair["judgements"].items():
        with st.container(border=True):
            st.markdown(f"**Judge {md_escape(judge)}: {verdict['outcome']}**"
                        + ("" if verdict["consistent"] is None else
                           " (both orders agree)" if verdict["consistent"] else
                           " (the orders disagree: tie)"))
            for label, order in (("A shown first", verdict["first"]),
                                 ("B shown first", verdict["second"])):
                st.markdown(f"*{label}:* " + (f"failed: {md_escape(order.get('error', ''))}"
                                              if order["failed"] else
                                              f"{order['winner'].upper()} — "
                                              f"{md_escape(order['reason'])}"))


def _extraction(column: Any, name: str, output: dict[str, Any]) -> None:
    column.markdown(f"**{name}** · {len(output['claims'])} claims, "
                    f"{output['quotes_verified']}/{output['quotes_proposed']} quotes verified")
    if output["status"] != "ok":
        column.error(f"extraction failed: {output['error']}")
        return
    column.markdown(f"Stance: **{output['stance']}** · topics: "
                    f"{md_escape(', '.join(output['topics']))}")
    for i, claim in enumerate(output["claims"], 1):
        quote = f"> {md_escape(claim['quote'])}"
        column.markdown(f"{i}. {quote}" if claim["claim"] == claim["quote"] else
                        f"{i}. {md_escape(claim['claim'])}\n\n{quote}")


def show_speeches(report: dict[str, Any]) -> None:
    """The per-speech table, then one speech with both extractions side by side."""
    st.subheader("Per speech")
    rows = [{"speech": p["speech_id"], "speaker": p["speaker"], "kind": p["kind"],
             "stance A": p["a"]["stance"] or p["a"]["status"],
             "stance B": p["b"]["stance"] or p["b"]["status"],
             "claims A": len(p["a"]["claims"]), "claims B": len(p["b"]["claims"]),
             **{f"verdict {j}": v["outcome"] for j, v in p["judgements"].items()}}
            for p in report["pairs"]]
    st.dataframe(rows, hide_index=True, width="stretch")
    if not rows:
        return
    pairs = {p["speech_id"]: p for p in report["pairs"]}
    sid = st.selectbox("Speech", list(pairs), key="eval_qid",
                       format_func=lambda s: f"{s}: {pairs[s]['speaker']} — "
                                             f"{pairs[s]['debate'][:70]}")
    pair = pairs[sid]
    st.markdown(f"**{md_escape(pair['speaker'])}** ({md_escape(pair['party'] or 'none')}), "
                f"{pair['date']} — *{md_escape(pair['debate'])}*")
    left, right = st.columns(2)
    _extraction(left, f"A: {md_escape(report['a'])}", pair["a"])
    _extraction(right, f"B: {md_escape(report['b'])}", pair["b"])
    show_verdicts(pair)
    with st.expander(f"The speech ({len(pair['text'].split())} words), retrieved for "
                     f"{pair['question_id']}"):
        st.markdown(md_escape(pair["text"]))
