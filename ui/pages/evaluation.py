"""Evaluation page: past model comparisons (``hemicycle eval compare``), one at a time
(argument-extraction runs, ``--task arguments``, are shown by ``ui.eval_arguments``)."""

from __future__ import annotations

import streamlit as st

from eval.report import list_runs, load_run, markdown_summary
from ingest.errors import HemicycleError
from ui.common import md_escape
from ui.eval_arguments import show_speeches, show_verdicts
from ui.services import load_settings

st.title("Evaluation")
try:
    reports_dir = load_settings().reports_dir
    runs = list_runs(reports_dir)
except HemicycleError as exc:
    st.error(str(exc))
    st.stop()

if not runs:
    st.info("No comparison yet. Run `hemicycle eval compare data/eval/questions.jsonl "
            "--a extractive --b groq:MODEL --judge groq:MODEL`.")
    st.stop()

labels = {r["run_id"]: f"{r['run_id']} — {r['task']}: A {r['a']} vs B {r['b']}, "
          + (f"{r['speeches']} speeches" if r["task"] == "arguments" else
             f"{r['questions']} questions") for r in runs}
run_id = st.selectbox("Run", list(labels), format_func=labels.get, key="eval_run")
try:
    report = load_run(reports_dir, run_id)
except HemicycleError as exc:
    st.error(str(exc))
    st.stop()

st.markdown(markdown_summary(report).split("\n", 1)[1])  # the run id is already the title
html_path = reports_dir / f"{run_id}.html"
if html_path.exists():
    st.download_button("Download the HTML report", html_path.read_bytes(),
                       file_name=html_path.name, mime="text/html", key="eval_html")

if report.get("task") == "arguments":
    show_speeches(report)
    st.stop()

st.subheader("Per question")
rows = [{"qid": p["qid"], "kind": p["kind"], "words A": p["a"]["words"],
         "words B": p["b"]["words"],
         **{f"verdict {j}": v["outcome"] for j, v in p["judgements"].items()}}
        for p in report["pairs"]]
st.dataframe(rows, hide_index=True, use_container_width=True)

pairs = {p["qid"]: p for p in report["pairs"]}
qid = st.selectbox("Question", list(pairs), key="eval_qid",
                   format_func=lambda q: f"{q}: {pairs[q]['question'][:90]}")
pair = pairs[qid]
st.markdown(f"**{md_escape(pair['question'])}** ({pair['kind']})")
left, right = st.columns(2)
for column, side in ((left, "a"), (right, "b")):
    output = pair[side]
    column.markdown(f"**{side.upper()}: {md_escape(report[side])}** · {output['words']} words")
    if output["error"]:
        column.error(output["error"])
    elif output["refused"]:
        column.write("Refused: the sources do not answer the question.")
    else:
        column.markdown(md_escape(output["text"]))
show_verdicts(pair)
with st.expander(f"{len(pair['sources'])} sources"):
    for source in pair["sources"]:
        st.markdown(f"**[{source['n']}] {md_escape(source['speaker'])} "
                    f"({md_escape(source['party'] or 'none')})** — {source['date']} — "
                    f"*{md_escape(source['debate'])}*")
        st.markdown(md_escape(source["text"]))
