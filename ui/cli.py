"""The ``hemicycle`` command: thin wrappers over ingest/, rag/ and eval/."""

from __future__ import annotations

import json
import os
import sys
import textwrap
from pathlib import Path
from typing import Annotated, Any

import typer

from ingest.errors import HemicycleError, InputError

from .services import Services, load_settings

app = typer.Typer(help="Hemicycle: ask the European Parliament's debates, with citations.",
                  no_args_is_help=True, pretty_exceptions_enable=False,
                  context_settings={"help_option_names": ["-h", "--help"]})
bench_app = typer.Typer(help="Benchmarks that print measured figures.", no_args_is_help=True)
app.add_typer(bench_app, name="bench")
eval_app = typer.Typer(help="Quality evaluation suites.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")

CollectionOpt = Annotated[str | None, typer.Option(help="Collection name (default: "
                                                   "HEMICYCLE_COLLECTION or 'debates').")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
PartyOpt = Annotated[list[str] | None, typer.Option(
    "--party", help="Political group, repeatable (EPP, S&D, Renew, Greens/EFA, ECR, ID, PfE, "
    "ESN, The Left, NI; CRE labels such as PPE or Verts/ALE work too).")]
SpeakerOpt = Annotated[list[str] | None, typer.Option(
    "--speaker", help="Speaker name or part of it, repeatable.")]
DateFromOpt = Annotated[str | None, typer.Option("--date-from", help="YYYY-MM-DD, inclusive.")]
DateToOpt = Annotated[str | None, typer.Option("--date-to", help="YYYY-MM-DD, inclusive.")]
DebateOpt = Annotated[list[str] | None, typer.Option(
    "--debate", help="Debate id or part of its title, repeatable.")]


def _services() -> Services:
    return Services(load_settings())


def _emit_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders: .jsonl .csv .parquet "
                                                "records, or .pdf .docx .html .txt .md reports.")],
    collection: CollectionOpt = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Read at most N records.")] = None,
    date: Annotated[str | None, typer.Option(
        help="Sitting date for documents that print none (YYYY-MM-DD).")] = None,
    map_: Annotated[list[str] | None, typer.Option(
        "--map", help="Column mapping for other layouts, FIELD=COLUMN, repeatable "
        "(e.g. --map text=Body --map speaker_name=Speaker).")] = None,
    progress: Annotated[bool, typer.Option(help="Show progress bars.")] = True,
    as_json: JsonOpt = False,
) -> None:
    """Ingest debates into the index (idempotent: re-running adds nothing)."""
    from rag.filters import parse_date

    column_map = {}
    for item in map_ or []:
        field, sep, column = item.partition("=")
        if not sep or not field or not column:
            raise InputError(f"--map expects FIELD=COLUMN, got {item!r}")
        column_map[field.strip()] = column.strip()
    report = _services().ingest(paths, collection, limit=limit,
                                default_date=parse_date(date, "--date"),
                                column_map=column_map, show_progress=progress and not as_json)
    if as_json:
        _emit_json(report.to_dict())
    else:
        for line in report.summary_lines():
            typer.echo(line)
    rejected = sum(report.rejected.values())
    if report.records_read and rejected == report.records_read:
        raise InputError(f"nothing ingested: all {rejected} records were rejected "
                         f"(reasons in {report.rejects_path})")


@app.command()
def stats(collection: CollectionOpt = None, as_json: JsonOpt = False) -> None:
    """Speeches, debates and chunks in the index, by political group and by year."""
    from ingest.state import Manifest

    settings = load_settings()
    manifest = Manifest(settings.state_path(collection))
    try:
        data = manifest.stats()
    finally:
        manifest.close()
    if as_json:
        _emit_json(data)
        return
    typer.echo(f"speeches: {data['speeches']}  debates: {data['debates']}  "
               f"chunks: {data['chunks']}")
    typer.echo("by group: " + ", ".join(f"{k} {v}" for k, v in data["by_party"].items()))
    typer.echo("by year:  " + ", ".join(f"{k} {v}" for k, v in data["by_year"].items()))


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What to look for.")],
    k: Annotated[int, typer.Option("--k", "-k", min=1, help="Number of results.")] = 10,
    party: PartyOpt = None, speaker: SpeakerOpt = None, date_from: DateFromOpt = None,
    date_to: DateToOpt = None, debate: DebateOpt = None,
    retriever: Annotated[str, typer.Option(help="dense, bm25 or hybrid.")] = "hybrid",
    collection: CollectionOpt = None, as_json: JsonOpt = False,
) -> None:
    """Search passages (one per speech), with metadata filters."""
    from rag.filters import SearchFilters

    filters = SearchFilters.build(party or [], speaker or [], date_from, date_to, debate or [])
    hits = _services().retriever(collection).search(query, k=k, mode=retriever, filters=filters)
    if as_json:
        _emit_json([hit.to_dict() for hit in hits])
        return
    if not hits:
        typer.echo(f"no passages found ({filters.describe()})")
    for hit in hits:
        r = hit.record
        who = r.speaker + (f" ({r.party})" if r.party else "") + (f", {r.role}" if r.role and
                                                                   r.role != "MEP" else "")
        typer.echo(f"[{hit.rank}] {hit.score:.4f}  {who} — {r.date} — {r.debate_title}")
        typer.echo(textwrap.indent(textwrap.fill(r.text, 100), "    "))
        typer.echo("")


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="Your question.")],
    generator: Annotated[str | None, typer.Option(
        help="extractive (default, offline), groq:MODEL or openai:MODEL@BASE_URL.")] = None,
    k: Annotated[int | None, typer.Option("--k", "-k", min=1,
                                          help="Passages given to the generator.")] = None,
    party: PartyOpt = None, speaker: SpeakerOpt = None, date_from: DateFromOpt = None,
    date_to: DateToOpt = None, debate: DebateOpt = None,
    retriever: Annotated[str | None, typer.Option(help="dense, bm25 or hybrid.")] = None,
    collection: CollectionOpt = None, as_json: JsonOpt = False,
) -> None:
    """Answer a question from the debates, citing [n] sources (or say they do not cover it)."""
    from rag.filters import SearchFilters

    services = _services()
    filters = SearchFilters.build(party or [], speaker or [], date_from, date_to, debate or [])
    assistant = services.assistant(generator, collection, k=k, mode=retriever)
    answer = assistant.ask(question, filters=filters)
    if as_json:
        _emit_json(answer.to_dict())
        return
    typer.echo(answer.answer)
    if answer.citations:
        typer.echo("\nSources:")
    for c in answer.citations:
        who = c.speaker + (f" ({c.party})" if c.party else "")
        typer.echo(f"[{c.n}] {who} — {c.date} — {c.debate_title}")
        typer.echo(textwrap.indent(textwrap.fill(f"“{c.quote}”", 100), "    "))
    typer.echo(f"\n({answer.generator}, {answer.latency_s:.2f} s"
               + (f", {answer.invalid_citations_removed} invalid citation(s) removed"
                  if answer.invalid_citations_removed else "") + ")")


@app.command()
def ui(port: Annotated[int, typer.Option(help="Port to serve on.")] = 8501,
       headless: Annotated[bool, typer.Option(help="Do not open a browser.")] = True) -> None:
    """Start the Streamlit app."""
    import subprocess

    app_path = Path(__file__).with_name("app.py")
    cmd = [sys.executable, "-m", "streamlit", "run", str(app_path), "--server.port", str(port),
           "--server.headless", str(headless).lower(), "--browser.gatherUsageStats", "false"]
    raise typer.Exit(subprocess.call(cmd))


@bench_app.command("ingest")
def bench_ingest(
    path: Annotated[Path | None, typer.Argument(help="Records to ingest (default: the real "
                                                "corpus in ../shared/corpora when present).")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Use the first N records.")] = None,
    repeat: Annotated[int, typer.Option(min=1, help="Repeat the input N times with new ids "
                                        "(to reach a larger corpus).")] = 1,
    memory_mb: Annotated[float, typer.Option(
        min=0, help="Also ingest the input repeated to at least this many MB and report the "
        "peak RSS (copies reuse their original's vectors); 0 skips it.")] = 45.0,
    throughput: Annotated[bool, typer.Option(
        help="Measure pipeline vs raw encoder throughput and the re-ingest speed-up.")] = True,
    as_json: JsonOpt = False,
) -> None:
    """Ingest throughput vs the raw encoder, re-ingest speed-up and peak RSS, in one run."""
    from eval.bench_ingest import run_ingest_benchmark

    result = run_ingest_benchmark(load_settings(), path, limit=limit, repeat=repeat,
                                  memory_mb=memory_mb, throughput=throughput)
    if as_json:
        _emit_json(result)
    else:
        for key, value in result.items():
            typer.echo(f"{key:32s} {value}")


@bench_app.command("query")
def bench_query(
    scale: Annotated[int, typer.Option(help="Also build a collection of at least this many "
                                       "chunks from ../shared/corpora (0: skip).")] = 50_000,
    base: Annotated[int, typer.Option(help="Real records embedded before repetition.")] = 3000,
    rounds: Annotated[int, typer.Option(min=1, help="Passes over the query set.")] = 3,
    as_json: JsonOpt = False,
) -> None:
    """Retrieval latency p50/p95, with and without filters, at sample size and at scale."""
    from eval.bench_query import run_query_benchmark

    report = run_query_benchmark(load_settings(), scale=scale, base=base, rounds=rounds)
    if as_json:
        _emit_json(report)
        return
    for size, figures in report.items():
        typer.echo(f"== {size}")
        for name, value in figures.items():
            typer.echo(f"  {name:40s} {value}")


@eval_app.command("retrieval")
def eval_retrieval(
    gold: Annotated[Path, typer.Option(help="Gold questions (JSONL).")] = Path(
        "data/eval/retrieval-gold.jsonl"),
    k: Annotated[int, typer.Option("--k", "-k", min=1, help="Depth of each run.")] = 10,
    cv: Annotated[int, typer.Option(
        "--cv", min=0, help="Also cross-validate the fusion weights over N folds.")] = 0,
    collection: CollectionOpt = None, as_json: JsonOpt = False,
) -> None:
    """recall@k, hit@1, MRR and nDCG of the dense, BM25 and hybrid retrievers on a gold set,
    with paired tests of hybrid against each side (and held-out folds with --cv)."""
    from eval.retrieval import (calibrate_refusal, format_table, load_gold,
                                run_retrieval_eval, save_report)

    services = _services()
    questions = load_gold(gold)
    retriever = services.retriever(collection)
    results = run_retrieval_eval(retriever, questions, k=k)
    if cv:
        from eval.tuning import cross_validate

        results["cross_validation"] = cross_validate(retriever, questions, folds=cv, k=k)
    off_topic = gold.with_name("off-topic.jsonl")
    if off_topic.exists() and gold.name == "retrieval-gold.jsonl":
        others = [json.loads(line)["question"] for line in
                  off_topic.read_text(encoding="utf-8").splitlines() if line.strip()]
        results["refusal_calibration"] = calibrate_refusal(
            retriever, [q.question for q in questions], others)
    save_report(results, services.settings.reports_dir / "retrieval.json")
    if as_json:
        _emit_json(results)
    else:
        typer.echo(f"{results['questions']} answerable questions, {gold}")
        typer.echo(format_table(results))
        if "cross_validation" in results:
            held = results["cross_validation"]["held_out"]
            typer.echo(f"hybrid, {cv}-fold cross-validation (held-out folds): " + ", ".join(
                f"{m} {held[m]:.3f}" for m in ("recall@5", "hit@1", "mrr@10", "ndcg@10")))
        if "refusal_calibration" in results:
            typer.echo(f"refusal calibration: {results['refusal_calibration']}")


@eval_app.command("refusal")
def eval_refusal(
    gold: Annotated[Path, typer.Option(help="Gold questions (JSONL); kind unanswerable = "
                                            "should be refused.")] = Path(
        "data/eval/retrieval-gold.jsonl"),
    off_topic: Annotated[Path | None, typer.Option(
        help="More questions to refuse ({\"question\": ...} lines).")] = None,
    collection: CollectionOpt = None, as_json: JsonOpt = False,
) -> None:
    """Share of unanswerable questions refused and of answerable ones wrongly refused."""
    from eval.refusal import load_refusal_questions, run_refusal_eval

    services = _services()
    answerable, unanswerable = load_refusal_questions(gold, off_topic)
    results = run_refusal_eval(services.assistant(collection=collection), answerable,
                               unanswerable)
    if as_json:
        _emit_json(results)
        return
    typer.echo(f"unanswerable refused: {results['unanswerable_refused']:.3f} of "
               f"{results['unanswerable']}; answerable refused: "
               f"{results['answerable_refused']:.3f} of {results['answerable']}")
    typer.echo(f"refused by check: {results['refused_by_check']}")
    for question in results["missed"]:
        typer.echo(f"  not refused: {question}")
    for question, why in results["wrongly_refused"].items():
        typer.echo(f"  wrongly refused: {question} ({why})")


def main() -> None:
    """Entry point: user mistakes become one line on stderr and a non-zero exit."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        app()
    except HemicycleError as exc:
        typer.echo(f"hemicycle: error: {exc}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        typer.echo("hemicycle: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # a bug, not a user mistake: still one line unless debugging
        if os.environ.get("HEMICYCLE_DEBUG"):
            raise
        typer.echo(f"hemicycle: internal error: {type(exc).__name__}: {exc} "
                   "(set HEMICYCLE_DEBUG=1 for the traceback)", err=True)
        sys.exit(3)


if __name__ == "__main__":
    main()
