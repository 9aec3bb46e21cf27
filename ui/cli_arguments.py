"""Printing for ``hemicycle enrich`` and ``hemicycle arguments`` (kept out of ui/cli.py so
the commands stay thin)."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import typer

__all__ = ["confirm_estimate", "print_sample", "print_claims", "write_report"]


def confirm_estimate(est: dict[str, Any]) -> bool:
    limits = est.get("limits") or {}
    typer.echo(f"estimate: {est['speeches']} speeches, {est['requests']} requests, "
               f"~{est['input_tokens']} input + ~{est['output_tokens']} output tokens, "
               f"~{est['minutes']} min at {limits.get('rpm') or '∞'} requests/min and "
               f"{limits.get('tpm') or '∞'} tokens/min")
    return typer.confirm("Go on?", default=False)


def print_sample(results: Sequence[tuple[Any, Any, Any]], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps([{**a.to_dict(), "speaker": s.speaker, "party": s.party,
                                "quotes": dict(c)} for s, a, c in results],
                              ensure_ascii=False, indent=2))
        return
    for speech, args, counts in results:
        typer.echo(f"== {speech.speaker} ({speech.party}) — {speech.date} — "
                   f"{speech.debate_title}  [{speech.speech_id}]")
        if args.status != "ok":
            typer.echo(f"   failed: {args.failure}")
            continue
        typer.echo(f"   stance: {args.stance}; topics: {', '.join(args.topics)}"
                   + (f"; keywords: {', '.join(args.keywords)}" if args.keywords else "")
                   + f"; provider: {args.provider}")
        for i, claim in enumerate(args.claims, 1):
            typer.echo(textwrap.indent(textwrap.fill(f"{i}. {claim.claim}", 96), "   "))
            typer.echo(textwrap.indent(textwrap.fill(f"“{claim.quote}” [{claim.match}, "
                                                     f"{claim.char_start}–{claim.char_end}]",
                                                     92), "       "))
        typer.echo(f"   quotes: {counts['verified']} verified, {counts['repaired']} repaired, "
                   f"{counts['dropped']} dropped\n")


def print_claims(rows: Sequence[Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps([r.to_dict() for r in rows], ensure_ascii=False, indent=2))
        return
    if not rows:
        typer.echo("no claims (run `hemicycle enrich` first, or loosen the filters)")
        return
    typer.echo(f"{'speaker':22} {'group':10} {'date':10} {'stance':10} claim / quote")
    for r in rows:
        typer.echo(f"{r.speaker[:22]:22} {r.party[:10]:10} {r.date:10} {r.stance:10} "
                   f"{textwrap.shorten(r.claim, 90)}")
        typer.echo(f"{'':56}“{textwrap.shorten(r.quote, 88)}”")


def write_report(services: Any, path: Path, collection: str | None,
                 debates: Sequence[str]) -> None:
    from ingest.errors import InputError
    from ingest.markdown import write_atomic
    from ui.argreport import render_report
    from ui.arguments import speech_results, stance_matrix

    results = speech_results(services, collection, debates)
    if not results:
        raise InputError("no enriched speeches" + (f" in {', '.join(debates)}" if debates else "")
                         + ": run `hemicycle enrich` first")
    write_atomic(path, render_report(results, stance_matrix(results)))
    typer.echo(f"wrote {path} ({len(results)} speeches, "
               f"{sum(len(a.claims) for _, a, _ in results)} claims)")
