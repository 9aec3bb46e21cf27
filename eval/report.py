"""Comparison reports: JSON, a markdown summary and a standalone HTML page (plotly).

Everything from the corpus or a model is HTML-escaped; plotly.js is embedded once in the page,
so the file opens offline.  Reports live in ``HEMICYCLE_HOME/reports/<run_id>.{json,md,html}``.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from ingest.errors import InputError

from .prompts import CRITERIA, EXTRACTION_CRITERIA

__all__ = ["write_reports", "list_runs", "load_run", "markdown_summary", "html_report"]


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def _num(value: Any) -> str:
    return "n/a" if value is None else (f"{value:.3f}" if isinstance(value, float) else
                                        str(value))


def _labels(report: dict[str, Any]) -> dict[str, str]:
    """Criterion key → label (the argument task reads the shared keys its own way)."""
    return EXTRACTION_CRITERIA if report.get("task") == "arguments" else {c: c for c in CRITERIA}


def markdown_summary(report: dict[str, Any]) -> str:
    a, b = report["a"], report["b"]
    arguments = report.get("task") == "arguments"
    scope = (f"{report['speeches']} speeches (the retrieved sources of {report['questions']} "
             "questions)" if arguments else f"{report['questions']} questions")
    lines = [f"# Comparison {report['run_id']}", "",
             f"A = `{a}`, B = `{b}`, task {report['task']}, {scope}, "
             f"{report['requests']} requests sent, {report['cache_hits']} "
             f"{'extractions' if arguments else 'answers'}/verdicts from the cache.", ""]
    if report["judge_skipped"]:
        lines += [f"**{report['judge_skipped']}**", ""]
    for warning in report["warnings"]:
        lines += [f"> warning: {warning}", ""]
    for judge, s in report["judged"].items():
        lines += [f"## Judge `{judge}`", "",
                  "| | A | B |", "|---|---|---|",
                  f"| wins (both orders agree) | {s['wins_a']} | {s['wins_b']} |",
                  f"| win rate (ties half) | {_pct(s['win_rate_a'])} "
                  f"[{_pct(s['ci95_a'][0])}, {_pct(s['ci95_a'][1])}] | "
                  f"{_pct(s['win_rate_b'])} [{_pct(s['ci95_b'][0])}, {_pct(s['ci95_b'][1])}] |",
                  f"| length-controlled win rate | {_pct(s['length_controlled_win_rate_a'])} | "
                  f"{_pct(None if s['length_controlled_win_rate_a'] is None else 1 - s['length_controlled_win_rate_a'])} |"]
        for c, label in _labels(report).items():
            lines.append(f"| mean {label} (1–5) | {_num(s['criteria'].get('a', {}).get(c))} | "
                         f"{_num(s['criteria'].get('b', {}).get(c))} |")
        lines += ["", f"Ties: {s['ties']}; pairs judged: {s['pairs']}; failed verdicts: "
                  f"{s['failed']}; position consistency: {_pct(s['position_consistency'])}; "
                  f"longer {'extraction' if arguments else 'answer'} won: "
                  f"{_pct(s['longer_answer_won_share'])} of decided pairs.",
                  "", "| kind | pairs | win rate A |", "|---|---|---|"]
        lines += [f"| {k} | {v['pairs']} | {_pct(v['win_rate_a'])} |"
                  for k, v in s["by_kind"].items()]
        lines.append("")
    if report.get("agreement"):
        g = report["agreement"]
        lines += [f"Judges agree on {_pct(g['agreement'])} of {g['pairs']} pairs, Cohen's kappa "
                  f"{_num(g['cohen_kappa'])}; {len(g['disagreements'])} disagreements.", ""]
    lines += ["## Without the judge", ""]
    if arguments:
        g = report["extraction_agreement"]
        lines += [f"Stance agreement of A and B: {_pct(g['stance_agreement'])} of "
                  f"{g['speeches']} speeches both extracted, Cohen's kappa "
                  f"{_num(g['stance_kappa'])}; mean topic overlap (Jaccard) "
                  f"{_num(g['topic_jaccard'])}."
                  + ("" if not g["stance_disagreements"] else " Stances differ on: " + "; ".join(
                      f"{d['speech_id']} (A {d['a']}, B {d['b']})"
                      for d in g["stance_disagreements"][:10])
                     + ("; …" if len(g["stance_disagreements"]) > 10 else "") + "."), ""]
    lines += ["| metric | A | B |", "|---|---|---|"]
    for key in report["metrics"]["a"]:
        lines.append(f"| {key} | {_num(report['metrics']['a'][key])} | "
                     f"{_num(report['metrics']['b'][key])} |")
    return "\n".join(lines) + "\n"


def _figures(report: dict[str, Any]) -> list[Any]:
    import plotly.graph_objects as go

    figures = []
    judged = report["judged"]
    if judged:
        names = list(judged)
        rates = [s["win_rate_a"] or 0 for s in judged.values()]
        figures.append(go.Figure(go.Bar(
            x=names, y=rates, name="win rate of A",
            error_y={"type": "data", "symmetric": False,
                     "array": [(s["ci95_a"][1] or 0) - (s["win_rate_a"] or 0)
                               for s in judged.values()],
                     "arrayminus": [(s["win_rate_a"] or 0) - (s["ci95_a"][0] or 0)
                                    for s in judged.values()]}),
            layout={"title": "Win rate of A over B, bootstrap 95% CI", "yaxis": {"range": [0, 1]}}))
        figures.append(go.Figure([
            go.Bar(x=names, y=rates, name="raw"),
            go.Bar(x=names, y=[s["length_controlled_win_rate_a"] or 0 for s in judged.values()],
                   name="length-controlled")],
            layout={"title": "Raw vs length-controlled win rate of A", "barmode": "group"}))
        first = next(iter(judged.values()))
        labels = _labels(report)
        figures.append(go.Figure([
            go.Bar(x=list(labels.values()), y=[first["criteria"].get(m, {}).get(c, 0)
                                               for c in labels],
                   name=f"{m.upper()}") for m in ("a", "b")],
            layout={"title": f"Mean scores per criterion ({names[0]})", "barmode": "group",
                    "yaxis": {"range": [0, 5]}}))
        figures.append(go.Figure(go.Bar(
            x=list(first["by_kind"]), y=[v["win_rate_a"] for v in first["by_kind"].values()]),
            layout={"title": "Win rate of A per question kind", "yaxis": {"range": [0, 1]}}))
    if report.get("task") == "arguments":
        shares = {"quotes verified": "quotes_verified_share",
                  "quotes verbatim": "quotes_verbatim_share"}
        figures.append(go.Figure([
            go.Bar(x=list(shares), y=[report["metrics"][m][k] or 0 for k in shares.values()],
                   name=f"{m.upper()}") for m in ("a", "b")],
            layout={"title": "Share of proposed quotes found in the speech", "barmode": "group",
                    "yaxis": {"range": [0, 1]}}))
    retrieval = report.get("retrieval")
    if retrieval:
        metrics = ["recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10"]
        figures.append(go.Figure([
            go.Bar(x=metrics, y=[data["overall"][m] for m in metrics], name=mode)
            for mode, data in retrieval["modes"].items()],
            layout={"title": "Retrieval metrics per retriever", "barmode": "group"}))
    return figures


def _e(text: Any) -> str:
    return html.escape(str(text if text is not None else ""))


def _verdicts(p: dict[str, Any]) -> list[str]:
    verdicts = []
    for judge, j in p["judgements"].items():
        parts = [f"<b>{_e(judge)}</b>: {_e(j['outcome'])}"
                 + ("" if j["consistent"] is None else
                    (" (orders agree)" if j["consistent"] else " (orders disagree)"))]
        for label, order in (("A/B", j["first"]), ("B/A", j["second"])):
            parts.append(f"{label}: " + (f"failed: {_e(order.get('error'))}"
                                         if order["failed"] else
                                         f"{_e(order['winner'])} — {_e(order['reason'])}"))
        verdicts.append("<br>".join(parts))
    return verdicts


def _speech_rows(report: dict[str, Any]) -> str:
    """One row per speech: the speech (expandable), both extractions, the verdicts."""
    rows = []
    for p in report["pairs"]:
        cells = []
        for side in ("a", "b"):
            o = p[side]
            body = (f"<i>failed: {_e(o['error'])}</i>" if o["status"] != "ok" else
                    _e(o["text"]).replace("\n", "<br>"))
            cells.append(f"<td class='answer'>{body}<div class='meta'>{len(o['claims'])} claims,"
                         f" {o['quotes_verified']}/{o['quotes_proposed']} quotes verified"
                         f"</div></td>")
        rows.append(f"<tr><td><b>{_e(p['speech_id'])}</b> <span class='kind'>{_e(p['kind'])}"
                    f"</span><br>{_e(p['speaker'])} ({_e(p['party'] or 'none')}), "
                    f"{_e(p['date'])}, {_e(p['debate'])}<details><summary>speech, "
                    f"{len(p['text'].split())} words</summary>"
                    f"<p>{_e(p['text']).replace(chr(10), '<br>')}</p>"
                    f"<p class='meta'>retrieved for {_e(p['question_id'])}: {_e(p['question'])}"
                    f"</p></details></td>{''.join(cells)}"
                    f"<td>{'<hr>'.join(_verdicts(p)) or 'not judged'}</td></tr>")
    return "\n".join(rows)


def _pair_rows(report: dict[str, Any]) -> str:
    if report.get("task") == "arguments":
        return _speech_rows(report)
    rows = []
    for p in report["pairs"]:
        verdicts = _verdicts(p)
        sources = "".join(f"<p><b>[{s['n']}] {_e(s['speaker'])} ({_e(s['party'])}), "
                          f"{_e(s['date'])}, {_e(s['debate'])}</b><br>{_e(s['text'])}</p>"
                          for s in p["sources"])
        cells = []
        for side in ("a", "b"):
            o = p[side]
            body = (f"<i>error: {_e(o['error'])}</i>" if o["error"] else
                    "<i>refused</i>" if o["refused"] else _e(o["text"]).replace("\n", "<br>"))
            cells.append(f"<td class='answer'>{body}<div class='meta'>{o['words']} words</div></td>")
        rows.append(f"<tr><td><b>{_e(p['qid'])}</b> <span class='kind'>{_e(p['kind'])}</span>"
                    f"<br>{_e(p['question'])}<details><summary>{len(p['sources'])} sources"
                    f"</summary>{sources}</details></td>{''.join(cells)}"
                    f"<td>{'<hr>'.join(verdicts) or _e(p['retrieval_refusal'] or 'not judged')}"
                    f"</td></tr>")
    return "\n".join(rows)


def html_report(report: dict[str, Any]) -> str:
    import markdown_it
    import plotly.io as pio

    charts = "".join(pio.to_html(fig, full_html=False, include_plotlyjs=(i == 0))
                     for i, fig in enumerate(_figures(report)))
    summary = markdown_it.MarkdownIt("commonmark", {"html": False}).enable("table").render(
        markdown_summary(report))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{_e(report['run_id'])}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em;max-width:1400px}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:6px;vertical-align:top}}
td.answer{{width:30%}}.meta,.kind{{color:#666;font-size:.85em}}</style></head><body>
{summary}
<h2>Charts</h2>{charts}
<h2>Per {'speech' if report.get('task') == 'arguments' else 'question'}</h2>
<table id="pairs"><thead><tr><th>{'speech' if report.get('task') == 'arguments' else 'question'}</th><th>A: {_e(report['a'])}</th>
<th>B: {_e(report['b'])}</th><th>verdicts</th></tr></thead><tbody>
{_pair_rows(report)}
</tbody></table></body></html>"""


def _latest_retrieval(reports_dir: Path) -> dict[str, Any] | None:
    """Overall scores per retriever from the last ``eval retrieval`` run, if any."""
    try:
        data = json.loads((reports_dir / "retrieval.json").read_text(encoding="utf-8"))
        return {"questions": data["questions"], "modes": {
            mode: {"overall": v["overall"]} for mode, v in data["modes"].items()}}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_reports(report: dict[str, Any], reports_dir: Path) -> dict[str, Path]:
    """``<run_id>.json``, ``.md`` and ``.html``; the last retrieval scores are attached."""
    reports_dir.mkdir(parents=True, exist_ok=True)
    report.setdefault("retrieval", _latest_retrieval(reports_dir))
    paths = {ext: reports_dir / f"{report['run_id']}.{ext}" for ext in ("json", "md", "html")}
    paths["json"].write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    paths["md"].write_text(markdown_summary(report), encoding="utf-8")
    paths["html"].write_text(html_report(report), encoding="utf-8")
    return paths


def list_runs(reports_dir: Path) -> list[dict[str, Any]]:
    """Past comparison runs, newest first (run id, models, date)."""
    runs = []
    for path in sorted(reports_dir.glob("compare-*.json"), reverse=True):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        runs.append({"run_id": data.get("run_id", path.stem), "a": data.get("a"),
                     "b": data.get("b"), "judges": data.get("judges", []),
                     "task": data.get("task", "answer"), "speeches": data.get("speeches"),
                     "questions": data.get("questions"), "created": data.get("created"),
                     "path": path})
    return runs


def load_run(reports_dir: Path, run_id: str) -> dict[str, Any]:
    path = reports_dir / f"{run_id}.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: cannot read the run ({exc})") from None
