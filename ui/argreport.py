"""``hemicycle enrich --report``: one standalone HTML page of enriched debates.

A group × stance matrix at the top; then each debate, each speech with its stance and
claims, and the speech's text with every claim's quote highlighted in the stance's colour;
each claim links to its highlight (and the highlight back to the claim).  All corpus and
model text is escaped; the page has no scripts and no external resources.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from ingest.arguments import STANCES

__all__ = ["render_report", "STANCE_COLOURS"]

STANCE_COLOURS = {"for": "#b7e4c7", "against": "#f4b6b6", "mixed": "#ffe08a",
                  "neutral": "#d7dde8", "procedural": "#e6e6e6"}

_CSS = """
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;
line-height:1.5;color:#1d1d1f}
table.matrix{border-collapse:collapse;margin:1rem 0}
.matrix th,.matrix td{border:1px solid #ccc;padding:.25rem .6rem;text-align:center}
.speech{border-top:1px solid #ddd;padding:.5rem 0 1rem}
.badge{border-radius:.3rem;padding:0 .4rem;font-size:.85em}
.text{white-space:pre-wrap;background:#fafafa;padding:.6rem;border-radius:.3rem}
mark{padding:0 .1rem;border-radius:.2rem}
mark:target{outline:3px solid #3050ff}
.note{color:#555;font-size:.9em}
""" + "".join(f".s-{s}{{background:{c}}}" for s, c in STANCE_COLOURS.items())


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _highlighted(text: str, spans: Sequence[tuple[int, int, str]], stance: str) -> str:
    out, at = [], 0
    for start, end, anchor in sorted(spans):
        if start < at or start < 0 or end > len(text):
            continue
        out.append(_e(text[at:start]))
        out.append(f'<mark id="{anchor}" class="s-{stance}"><a href="#c-{anchor}">'
                   f"{_e(text[start:end])}</a></mark>")
        at = end
    out.append(_e(text[at:]))
    return "".join(out)


def render_report(results: Sequence[tuple[Any, Any, int]], matrix: dict[str, dict[str, int]],
                  title: str = "Hemicycle: arguments") -> str:
    """The page for ``results`` (speech, arguments, span start) and their matrix."""
    providers = sorted({args.provider for _, args, _ in results})
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{_e(title)}"
             f"</title><style>{_CSS}</style></head><body><h1>{_e(title)}</h1>"]
    parts.append(f"<p class='note'>Extracted by {_e(', '.join(providers))}. Every quote is "
                 "located verbatim in the speech; quotes that could not be found were "
                 "dropped.</p>")
    if "heuristic" in providers:
        parts.append("<p class='note'>provider=heuristic: claims are the speech's most "
                     "central argumentative sentences and the stance comes from cue phrases "
                     "(no LLM); check before citing.</p>")
    parts.append("<table class='matrix'><tr><th>group</th>" +
                 "".join(f"<th class='s-{s}'>{s}</th>" for s in STANCES) + "</tr>")
    for group, counts in matrix.items():
        parts.append(f"<tr><th>{_e(group)}</th>" +
                     "".join(f"<td>{counts.get(s, 0) or ''}</td>" for s in STANCES) + "</tr>")
    parts.append("</table>")
    debate = None
    for n, (speech, args, start) in enumerate(results):
        if speech.debate_id != debate:
            debate = speech.debate_id
            parts.append(f"<h2>{_e(speech.debate_title)} <small>({_e(speech.date)})</small></h2>")
        who = speech.speaker + (f" ({speech.party})" if speech.party else "")
        parts.append(f"<div class='speech' id='sp-{n}'><h3>{_e(who)} <span class='badge "
                     f"s-{args.stance}'>{_e(args.stance)}</span></h3>")
        parts.append(f"<p class='note'>topics: {_e(', '.join(args.topics))}</p><ol>")
        spans = []
        for i, claim in enumerate(args.claims):
            anchor = f"q-{n}-{i}"
            spans.append((claim.char_start - start, claim.char_end - start, anchor))
            parts.append(f"<li id='c-{anchor}'><a href='#{anchor}'>{_e(claim.claim)}</a></li>")
        parts.append("</ol>")
        parts.append(f"<div class='text'>{_highlighted(speech.text, spans, args.stance)}</div>"
                     "</div>")
    parts.append("</body></html>")
    return "".join(parts)
