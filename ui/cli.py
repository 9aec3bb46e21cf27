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


StanceOpt = Annotated[list[str] | None, typer.Option(
    "--stance", help="Extracted stance, repeatable: for, against, mixed, neutral, procedural "
    "(needs `hemicycle enrich`).")]
TopicOpt = Annotated[list[str] | None, typer.Option(
    "--topic", help="Extracted topic, repeatable (see README: climate, migration, trade...).")]
RewriteOpt = Annotated[bool | None, typer.Option(
    "--rewrite/--no-rewrite", help="LLM query rewriting (default: HEMICYCLE_SEARCH_REWRITE, "
    "off).")]
QueriesOpt = Annotated[int | None, typer.Option(
    "--queries", min=0, max=5, help="LLM multi-query: N alternative queries, fused by "
    "reciprocal rank (default: HEMICYCLE_SEARCH_QUERIES, 0).")]
RerankOpt = Annotated[int | None, typer.Option(
    "--rerank", min=0, max=50, help="LLM listwise reranking of the top N candidates "
    "(default: HEMICYCLE_SEARCH_RERANK, 0). The LLM: HEMICYCLE_SEARCH_LLM or an LLM "
    "--generator.")]


def _services() -> Services:
    return Services(load_settings())


def _require_collection(settings: Any, collection: str | None) -> None:
    """A read command on a collection that does not exist, or holds nothing, says so."""
    from ingest.state import Manifest

    name = collection or settings.collection
    path = settings.state_path(name)
    if not path.exists():
        known = sorted(p.name for p in (settings.home / "collections").glob("*") if p.is_dir())
        raise InputError(f"no collection {name!r} under {settings.home} (known: "
                         f"{', '.join(known) or 'none'}; run `hemicycle ingest` first)")
    manifest = Manifest(path)
    try:
        empty = manifest.chunk_count() == 0
    finally:
        manifest.close()
    if empty:
        raise InputError(f"collection {name!r} is empty: nothing has been ingested into it")


def _emit_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _emit_figures(result: dict[str, Any], as_json: bool) -> None:
    """A benchmark's or evaluation's figures: JSON, or one ``name  value`` line each."""
    if as_json:
        _emit_json(result)
        return
    for key, value in result.items():
        typer.echo(f"{key:32s} {value}")


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
    if not report.records_read:
        raise InputError(f"nothing ingested: {', '.join(map(str, paths))} hold(s) no records")
    if rejected == report.records_read:
        why = "; ".join(report.errors[:3]) or f"reasons in {report.rejects_path}"
        raise InputError(f"nothing ingested: all {rejected} records were rejected ({why})")


@app.command()
def export(
    path: Annotated[Path, typer.Argument(help="Target file: .jsonl, .csv or .parquet.")],
    collection: CollectionOpt = None,
) -> None:
    """Write every ingested speech once, in the EU Debates record layout (a dataset), with
    the extracted arguments (claims, stance, topics; enrichment_status says when a speech was
    not enriched or failed)."""
    from ingest.argstore import ArgumentStore
    from ingest.export import export_speeches

    settings = load_settings()
    _require_collection(settings, collection)
    store = ArgumentStore.for_collection(settings, collection)
    try:
        count = export_speeches(settings, path, collection,
                                lambda speech: store.export_columns(speech.speech_id))
    finally:
        store.close()
    typer.echo(f"exported {count} speeches to {path}")


@app.command()
def remove(
    speech: Annotated[str | None, typer.Option(help="A speech id.")] = None,
    debate: Annotated[str | None, typer.Option(help="A debate id (all its speeches).")] = None,
    source: Annotated[Path | None, typer.Option(help="The file the speeches were read "
                                                "from.")] = None,
    collection: CollectionOpt = None,
) -> None:
    """Take speeches out of the index, the manifest, the debate markdown and the search mirror."""
    report = _services().remove(collection, speech=speech, debate=debate, source=source)
    typer.echo(report.summary())


@app.command()
def stats(collection: CollectionOpt = None, as_json: JsonOpt = False) -> None:
    """Speeches, debates and chunks in the index, by political group and by year."""
    from ingest.state import Manifest

    settings = load_settings()
    _require_collection(settings, collection)
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
    date_to: DateToOpt = None, debate: DebateOpt = None, stance: StanceOpt = None,
    topic: TopicOpt = None,
    retriever: Annotated[str, typer.Option(help="dense, bm25 or hybrid.")] = "hybrid",
    rewrite: RewriteOpt = None, queries: QueriesOpt = None, rerank: RerankOpt = None,
    collection: CollectionOpt = None, as_json: JsonOpt = False,
) -> None:
    """Search passages (one per speech), with metadata filters.

    Scores: relevance = the retriever's score / the query's best (0-1, top hit 1.00, same
    for dense, bm25 and hybrid); cosine = similarity to the query; bm25 = BM25 / best BM25
    among the hits (0-1). --json keeps the raw score, dense_score and bm25_score too."""
    from rag.filters import SearchFilters
    from rag.llmsearch import SearchOptions
    from rag.retriever import check_mode
    from rag.scores import scaled

    filters = SearchFilters.build(party or [], speaker or [], date_from, date_to, debate or [],
                                  stance or [], topic or [])
    check_mode(retriever)
    services = _services()
    _require_collection(services.settings, collection)
    llm_search = services.llm_search(None, SearchOptions.from_settings(
        services.settings, rewrite, queries, rerank))
    if llm_search is None:
        hits = services.retriever(collection).search(query, k=k, mode=retriever,
                                                     filters=filters)
    else:
        hits, run = llm_search.search(services.retriever(collection), query, k, retriever,
                                      filters)
        if not as_json:
            typer.echo("\n".join(run.steps) + "\n" if run.steps else "", nl=False)
    scales = scaled(hits)
    if as_json:
        _emit_json([{**hit.to_dict(), **scale} for hit, scale in zip(hits, scales)])
        return
    if not hits:
        typer.echo(f"no passages found ({filters.describe()})")
    for hit, scale in zip(hits, scales):
        r = hit.record
        who = r.speaker + (f" ({r.party})" if r.party else "") + (f", {r.role}" if r.role and
                                                                   r.role != "MEP" else "")
        typer.echo(f"[{hit.rank}] relevance {scale['relevance']:.2f} · cosine "
                   f"{scale['cosine']:.2f} · bm25 {scale['bm25_relative']:.2f}  "
                   f"{who} — {r.date} — {r.debate_title}")
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
    date_to: DateToOpt = None, debate: DebateOpt = None, stance: StanceOpt = None,
    topic: TopicOpt = None,
    retriever: Annotated[str | None, typer.Option(help="dense, bm25 or hybrid.")] = None,
    history: Annotated[Path | None, typer.Option(
        help="Previous turns, JSONL (or a JSON list) of {question, answer}: the question may "
        "be a follow-up of them. A missing file is an empty history.")] = None,
    rewrite: RewriteOpt = None, queries: QueriesOpt = None, rerank: RerankOpt = None,
    save: Annotated[bool, typer.Option(
        "--save", help="Append this turn to the --history file (JSONL).")] = False,
    collection: CollectionOpt = None, as_json: JsonOpt = False,
) -> None:
    """Answer a question from the debates, citing \\[n] sources (or say they do not cover it)."""
    from rag.filters import SearchFilters
    from rag.llmsearch import SearchOptions

    from .terminal import format_answer, load_history, save_turn

    if save and history is None:
        raise InputError("--save needs --history FILE")
    services = _services()
    _require_collection(services.settings, collection)
    filters = SearchFilters.build(party or [], speaker or [], date_from, date_to, debate or [],
                                  stance or [], topic or [])
    assistant = services.assistant(generator, collection, k=k, mode=retriever,
                                   search=SearchOptions.from_settings(
                                       services.settings, rewrite, queries, rerank))
    answer = assistant.ask(question, load_history(history) if history else (), filters)
    if save and history is not None:
        save_turn(history, answer)
    typer.echo(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2) if as_json
               else format_answer(answer))


@app.command()
def chat(
    generator: Annotated[str | None, typer.Option(
        help="extractive (default, offline), groq:MODEL or openai:MODEL@BASE_URL.")] = None,
    party: PartyOpt = None, speaker: SpeakerOpt = None, date_from: DateFromOpt = None,
    date_to: DateToOpt = None, debate: DebateOpt = None,
    rewrite: RewriteOpt = None, queries: QueriesOpt = None, rerank: RerankOpt = None,
    collection: CollectionOpt = None,
) -> None:
    """Interactive questions with follow-ups (the history is kept, as in the app).
    Commands: /filters [KEY=VALUE... | clear], /sources, /help, /quit (or Ctrl-D)."""
    from rag.filters import SearchFilters
    from rag.llmsearch import SearchOptions

    from .terminal import ChatSession, make_reader

    services = _services()
    _require_collection(services.settings, collection)
    filters = SearchFilters.build(party or [], speaker or [], date_from, date_to, debate or [])
    session = ChatSession(services.assistant(
        generator, collection, search=SearchOptions.from_settings(
            services.settings, rewrite, queries, rerank)), filters)
    session.run(make_reader(services.settings.home / "chat-history"), typer.echo)


@app.command("enrich")
def enrich_cmd(
    sample: Annotated[int | None, typer.Option(min=1, help="Extract from N speeches and print "
                                               "the result (nothing stored).")] = None,
    provider: Annotated[str | None, typer.Option(help="heuristic (offline), groq:MODEL or "
                                                 "openai:MODEL@BASE_URL.")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="At most N speeches.")] = None,
    debate: DebateOpt = None, party: PartyOpt = None,
    yes: Annotated[bool, typer.Option("--yes", help="No confirmation above 50 speeches.")] = False,
    report: Annotated[Path | None, typer.Option(help="Write a standalone HTML page of the "
                                                "enriched debates instead.")] = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
    collection: CollectionOpt = None, as_json: JsonOpt = False,
) -> None:
    """Extract claims (with verified quotes), stance and topics from indexed speeches."""
    from ui.arguments import run_enrichment, sample_enrichment
    from ui.cli_arguments import confirm_estimate, print_sample, write_report

    services = _services()
    if report is not None:
        return write_report(services, report, collection, debate or [])
    if sample is not None:
        return print_sample(sample_enrichment(services, provider, sample, collection,
                                              debate or []), as_json)
    result = run_enrichment(services, provider, collection, debate or [], party or [], limit,
                            None if yes else confirm_estimate, progress and not as_json)
    if result is None:
        raise typer.Exit(1)
    _emit_json(result.to_dict()) if as_json else [typer.echo(x) for x in result.summary_lines()]
    if result.stopped:
        typer.echo(f"hemicycle: stopped: {result.stopped}", err=True)
        raise typer.Exit(2)


@app.command()
def arguments(
    debate: DebateOpt = None, party: PartyOpt = None, stance: StanceOpt = None,
    topic: TopicOpt = None, collection: CollectionOpt = None, as_json: JsonOpt = False,
) -> None:
    """Extracted claims as a table: speaker, group, date, stance, claim, quote."""
    from rag.filters import SearchFilters
    from ui.arguments import claim_rows, speech_results
    from ui.cli_arguments import print_claims

    SearchFilters.build(stances=stance or [], topics=topic or [])  # validates the values
    rows = claim_rows(speech_results(_services(), collection, debate or []), party or [],
                      stance or [], topic or [])
    print_claims(rows, as_json)
EmbedderOpt = Annotated[str, typer.Option(
    "--embedder", help="Embedder spec: st:all-MiniLM-L6-v2, st:PATH, onnx, onnx-int8, "
    "e5-multilingual or openai:MODEL@BASE_URL.")]


@app.command()
def reembed(
    embedder: EmbedderOpt,
    collection: Annotated[str | None, typer.Option(
        help="New collection to build (default: SOURCE-SPEC).")] = None,
    source: Annotated[str | None, typer.Option(
        help="Collection whose chunks are re-embedded (default: HEMICYCLE_COLLECTION).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Build a copy of a collection with another embedder from its stored chunks (resumable)."""
    from ingest.embedders import make_embedder
    from ingest.reembed import reembed as run

    services = _services()
    report = run(services.settings, services.client, make_embedder(embedder, services.settings),
                 source, collection, progress=None if as_json else lambda done, total: typer.echo(
                     f"embedded {done}/{total}"))
    if as_json:
        _emit_json(report.to_dict())
        return
    typer.echo(f"{report.target}: {report.chunks} chunks with {report.embedder} "
               f"({report.embedded} embedded now, {report.already_there} already there, "
               f"{report.seconds:.1f} s); use it with HEMICYCLE_COLLECTION={report.target} "
               f"HEMICYCLE_EMBEDDER={report.embedder}")


@app.command()
def ui(port: Annotated[int, typer.Option(help="Port to serve on.")] = 8501,
       headless: Annotated[bool, typer.Option(help="Do not open a browser.")] = True) -> None:
    """Start the Streamlit app (Ctrl-C or SIGTERM stops it)."""
    from .server import serve

    app_path = Path(__file__).with_name("app.py")
    raise typer.Exit(serve([str(app_path), "--server.port", str(port), "--server.headless",
                            str(headless).lower(), "--browser.gatherUsageStats", "false"]))


@app.command()
def explore(
    out: Annotated[Path, typer.Option("--out", help="HTML file to write.")] = Path("map.html"),
    color_by: Annotated[str, typer.Option(help="party, debate, speaker, year, language "
                                          "(stance, topics once arguments exist).")] = "party",
    sample: Annotated[int, typer.Option(min=2, help="Points, stratified by debate.")] = 5000,
    method: Annotated[str, typer.Option(help="tsne (openTSNE) or pca.")] = "tsne",
    perplexity: Annotated[float, typer.Option(min=5, max=50, help="t-SNE perplexity.")] = 30,
    unit: Annotated[str, typer.Option(help="chunk, or speech (mean of its chunks).")] = "chunk",
    query: Annotated[str | None, typer.Option(help="Place this query on the map and mark "
                                              "the passages search returns.")] = None,
    k: Annotated[int, typer.Option("--k", "-k", min=1, help="Passages marked.")] = 10,
    name_clusters: Annotated[str | None, typer.Option(
        "--name-clusters", help="LLM spec naming the clusters (default: "
        "HEMICYCLE_EXPLORE_NAMER; unset: their distinctive words).")] = None,
    party: PartyOpt = None, speaker: SpeakerOpt = None, date_from: DateFromOpt = None,
    date_to: DateToOpt = None, debate: DebateOpt = None,
    collection: CollectionOpt = None, as_json: JsonOpt = False,
) -> None:
    """Write a 2-D map of the corpus embeddings (t-SNE or PCA) as a standalone HTML file."""
    from rag.explore import MapSpec
    from rag.filters import SearchFilters
    from ui.explore_plot import export_map

    spec = MapSpec(method=method, sample=sample, perplexity=perplexity, unit=unit)
    filters = SearchFilters.build(party or [], speaker or [], date_from, date_to, debate or [])
    services = _services()
    result = export_map(services, out, spec, color_by, query, k, filters, collection,
                        namer=name_clusters or services.settings.explore_namer)
    if result["warning"]:
        typer.echo(f"hemicycle: warning: {result['warning']}", err=True)
    if as_json:
        _emit_json(result)
        return
    built = "read from cache" if result["cached"] else f"built in {result['seconds']} s"
    typer.echo(f"{result['points']} points ({result['method']}, {built}) -> {out}")
    if result["clusters"]:
        typer.echo("clusters: " + "; ".join(result["clusters"]))


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

    _emit_figures(run_ingest_benchmark(load_settings(), path, limit=limit, repeat=repeat,
                                       memory_mb=memory_mb, throughput=throughput), as_json)


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


@bench_app.command("enrich")
def bench_enrich(
    path: Annotated[Path | None, typer.Argument(help="Speeches (JSONL; default: the real "
                                                "corpus in ../shared/corpora).")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Speeches for the heuristic.")] = 200,
    seconds: Annotated[float, typer.Option(min=0, help="Wall time of the rate-limited LLM "
                                           "run against the local fake server (0: skip).")] = 150,
    as_json: JsonOpt = False,
) -> None:
    """Heuristic speeches/s; achieved share of Groq free-tier RPM/TPM (fake server)."""
    from eval.bench_enrich import run_enrich_benchmark

    _emit_figures(run_enrich_benchmark(load_settings(), path, limit=limit, seconds=seconds),
                  as_json)


@eval_app.command("stance")
def eval_stance(
    labels: Annotated[Path, typer.Option(help="Hand labels (JSONL).")] = Path(
        "data/eval/stance-labels.jsonl"),
    collection: CollectionOpt = None, as_json: JsonOpt = False,
) -> None:
    """Agreement of the stored stances (``hemicycle enrich``) with hand labels."""
    from eval.stance import load_labels, stance_agreement
    from ingest.argstore import ArgumentStore

    store = ArgumentStore.for_collection(load_settings(), collection)
    try:
        result = stance_agreement(load_labels(labels),
                                  {sid: v[0] for sid, v in store.labels().items()})
    finally:
        store.close()
    _emit_figures(result, as_json)


@bench_app.command("explore")
def bench_explore(
    size: Annotated[list[int] | None, typer.Option(
        "--size", min=2, help="Map sizes, repeatable (default 2000 and 5000).")] = None,
    collection: CollectionOpt = None, as_json: JsonOpt = False,
) -> None:
    """Seconds for the t-SNE map cold and cached, and to place a query on it."""
    from eval.bench_explore import run_explore_benchmark

    report = run_explore_benchmark(load_settings(), size or [2000, 5000], collection)
    if as_json:
        _emit_json(report)
        return
    for name, value in report.items():
        typer.echo(f"{name:32s} {value}")


@bench_app.command("embed")
def bench_embed(
    embedder: Annotated[list[str] | None, typer.Option(
        "--embedder", help="Backend spec, repeatable (default: st:all-MiniLM-L6-v2, onnx, "
        "onnx-int8, e5-multilingual).")] = None,
    path: Annotated[Path | None, typer.Argument(help="Records to chunk (default: the real "
                                                "corpus in ../shared/corpora).")] = None,
    chunks: Annotated[int, typer.Option(min=10, help="Real chunks embedded by each.")] = 1000,
    as_json: JsonOpt = False,
) -> None:
    """Chunks/s and query latency p50/p95 of each embedder on the same real chunks, in turns,
    and the projected time to embed the full EU Debates corpus."""
    from eval.bench_embed import run_embed_benchmark

    report = run_embed_benchmark(load_settings(), embedder, path, n_chunks=chunks)
    if as_json:
        _emit_json(report)
        return
    typer.echo(f"{report['chunks']} chunks of {report['speeches']} speeches ({report['corpus']}); "
               f"full corpus ≈ {report['full_corpus_chunks_projected']} chunks")
    for spec, figures in report["backends"].items():
        typer.echo(f"{spec:28s} " + "  ".join(f"{k} {v}" for k, v in figures.items()))


@eval_app.command("retrieval")
def eval_retrieval(
    gold: Annotated[Path, typer.Option(help="Question set (JSONL; questions.jsonl or the "
                                       "retrieval-gold layout).")] = Path(
        "data/eval/questions.jsonl"),
    k: Annotated[int, typer.Option("--k", "-k", min=1, help="Depth of each run.")] = 10,
    cv: Annotated[int, typer.Option(
        "--cv", min=0, help="Also cross-validate the fusion weights over N folds.")] = 0,
    retriever: Annotated[str, typer.Option(help="dense, bm25, hybrid or all (with a paired "
                                           "significance test).")] = "all",
    out: Annotated[Path | None, typer.Option(help="Also write the report (with per-question "
                                             "ranks) to this JSON file.")] = None,
    collection: CollectionOpt = None, as_json: JsonOpt = False,
    embedder: Annotated[list[str] | None, typer.Option(
        "--embedder", help="Compare embedders side by side (repeatable); each gets its own "
        "collection of --corpus.")] = None,
    corpus: Annotated[list[Path] | None, typer.Option(
        help="Records of the gold set (with --embedder; default data/corpus).")] = None,
    distractors: Annotated[int | None, typer.Option(
        help="With one big --corpus file: index only the gold speeches, their debates and N "
        "other speeches.")] = None,
) -> None:
    """recall@1/5/10, hit@1, MRR@10 and nDCG@10 of the dense, BM25 and hybrid retrievers on a
    question set (speech level), per kind, with paired significance tests, refusals of the
    unanswerable questions at the threshold, and held-out folds with --cv."""
    from eval.questions import load_questions
    from eval.ranking import format_report, run_question_eval
    from eval.retrieval import (calibrate_refusal, format_table, load_gold,
                                run_retrieval_eval, save_report)
    from rag.retriever import check_mode

    services = _services()
    if embedder:
        from eval.compare_embedders import compare_embedders, format_comparison

        results = compare_embedders(services.settings, services.client, embedder, gold,
                                    corpus or [Path("data/corpus")], k=k,
                                    distractors=distractors)
        save_report(results, services.settings.reports_dir / "retrieval-embedders.json")
        _emit_json(results) if as_json else typer.echo(
            f"{results['questions']} questions, {gold}\n{format_comparison(results)}")
        return
    check_modes = ("dense", "bm25", "hybrid") if retriever == "all" else (retriever,)
    for mode in check_modes:
        check_mode(mode)
    _require_collection(services.settings, collection)
    search = services.retriever(collection)
    questions = load_questions(gold)
    results = run_question_eval(search, questions, check_modes, k=k,
                                threshold=services.settings.refusal_threshold)
    gold_questions = [q for q in load_gold(gold) if q.answerable]
    summary = run_retrieval_eval(search, gold_questions, k=k, modes=check_modes)
    results["summary"] = summary
    if cv:
        from eval.tuning import cross_validate

        results["cross_validation"] = cross_validate(search, gold_questions, folds=cv, k=k)
    off_topic = gold.with_name("off-topic.jsonl")
    if off_topic.exists() and gold.name == "retrieval-gold.jsonl":
        others = [json.loads(line)["question"] for line in
                  off_topic.read_text(encoding="utf-8").splitlines() if line.strip()]
        results["refusal_calibration"] = calibrate_refusal(
            search, [q.question for q in questions if q.answerable], others)
    for path in [services.settings.reports_dir / "retrieval.json"] + ([out] if out else []):
        save_report(results, path)
    if as_json:
        _emit_json(results)
        return
    typer.echo(f"{summary['questions']} answerable questions, {gold}")
    typer.echo(format_table(summary))
    if "cross_validation" in results:
        held = results["cross_validation"]["held_out"]
        typer.echo(f"hybrid, {cv}-fold cross-validation (held-out folds): " + ", ".join(
            f"{m} {held[m]:.3f}" for m in ("recall@5", "hit@1", "mrr@10", "ndcg@10")))
    typer.echo(f"\nper kind ({results['questions']} questions):")
    typer.echo(format_report(results))
    if "refusal_calibration" in results:
        typer.echo(f"refusal calibration: {results['refusal_calibration']}")


@eval_app.command("parse")
def eval_parse(
    folder: Annotated[Path | None, typer.Argument(help="CRE pages (.html) or a folder of them "
                                                  "(default: ../shared/corpora/cre-html).")] = None,
    records: Annotated[Path | None, typer.Option(help="Published records of the same days "
                                                 "(default: ../shared/corpora).")] = None,
    with_ingest: Annotated[bool, typer.Option("--ingest", help="Also time a whole ingest of "
                                              "the pages (chunks/s).")] = False,
    docx: Annotated[bool, typer.Option(
        "--docx", help="Parse a DOCX edition of each page (made from the HTML by "
        "eval/cre_docx.py) instead.")] = False,
    show: Annotated[int, typer.Option(help="Disagreements to print.")] = 20,
) -> None:
    """Parse CRE pages and compare with the EP's published records: counts, attribution,
    speaker/group/role/title/language agreement, mojibake left, seconds per sitting day."""
    from eval.parse import ingest_throughput, run_parse_folder

    pages, published, figures = run_parse_folder(folder, records, docx)
    typer.echo(f"{len(pages)} pages{' (DOCX editions)' if docx else ''}, compared with {published}")
    typer.echo(figures.table())
    for line in figures.disagreements[:show]:
        typer.echo(f"  {line}")
    if with_ingest:
        typer.echo(f"whole ingest: {ingest_throughput(load_settings(), pages)}")
    if figures.misses():
        raise typer.Exit(1)


@eval_app.command("diff")
def eval_diff(
    before: Annotated[Path, typer.Argument(help="Earlier `eval retrieval --out` report.")],
    after: Annotated[Path, typer.Argument(help="Later report.")],
    metric: Annotated[str, typer.Option(help="Per-question metric compared.")] = "ndcg@10",
) -> None:
    """Questions that got better or worse between two retrieval reports."""
    from eval.ranking import diff_runs, load_report

    changes = diff_runs(load_report(before), load_report(after), metric)
    for mode, moved in changes.items():
        typer.echo(f"{mode}: {len(moved['better'])} better, {len(moved['worse'])} worse")
        for label in ("better", "worse"):
            for row in moved[label]:
                typer.echo(f"  {label:6s} {row['qid']:10s} {row['kind'] or '':17s} "
                           f"{row['before']:.3f} -> {row['after']:.3f}")


@eval_app.command("compare")
def eval_compare(
    questions: Annotated[Path, typer.Argument(help="Question set (JSONL).")],
    a: Annotated[str, typer.Option("--a", help="Model A: extractive (answer) or heuristic "
                                   "(arguments), groq:MODEL, openai:MODEL@BASE_URL.")],
    b: Annotated[str, typer.Option("--b", help="Model B (same forms).")],
    judge: Annotated[list[str] | None, typer.Option(
        "--judge", help="Judge LLM spec, repeatable (two judges: agreement is reported).")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="answer: first N questions; "
                                              "arguments: at most N speeches (default 30).")
                     ] = None,
    task: Annotated[str, typer.Option(help="answer, or arguments (argument extraction).")
                    ] = "answer",
    collection: CollectionOpt = None, as_json: JsonOpt = False,
) -> None:
    """Compare two models, judged in both orders; writes JSON, markdown and HTML reports.
    --task answer: both generators answer every question from the same retrieved sources.
    --task arguments: both extractors (as `hemicycle enrich`) extract claims, quotes, stance
    and topics from the same speeches: the speeches of each question's retrieved sources, in
    question then rank order, each once, at most --limit (default 30)."""
    from eval.compare import run_comparison
    from eval.questions import load_questions
    from eval.report import markdown_summary, write_reports

    services = _services()
    report = run_comparison(services, load_questions(questions), a, b, judge or [],
                            limit=limit, collection=collection, task=task)
    paths = write_reports(report, services.settings.reports_dir)
    typer.echo(json.dumps({k: str(v) for k, v in paths.items()}) if as_json else
               markdown_summary(report) + f"\nreports: {paths['html']}")


@eval_app.command("answers")
def eval_answers(
    gold: Annotated[Path, typer.Option(help="Questions with answer_hint (JSONL).")] = Path(
        "data/eval/retrieval-gold.jsonl"),
    generator: Annotated[str | None, typer.Option(help="Generator spec (default: the "
                                                  "configured one).")] = None,
    collection: CollectionOpt = None, as_json: JsonOpt = False,
) -> None:
    """Share of answers whose text contains every `;`-separated fact of the question's
    answer_hint (case-folded, numbers and % / EUR normalised; refusals count as misses)."""
    from eval.answers import format_answer_report, load_hinted, run_answer_eval

    results = run_answer_eval(_services().assistant(generator, collection), load_hinted(gold))
    if as_json:
        _emit_json(results)
    else:
        typer.echo(f"{gold}\n{format_answer_report(results)}")


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
