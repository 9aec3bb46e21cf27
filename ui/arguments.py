"""What the CLI and the Arguments page share about extracted arguments: running an
enrichment over a collection, a sample check, claim rows with speech metadata and the
group × stance matrix."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ingest.argstore import ArgumentStore
from ingest.arguments import STANCES
from ingest.schema import Speech, normalize_party
from ingest.state import Manifest

__all__ = ["ClaimRow", "run_enrichment", "sample_enrichment", "claim_rows", "stance_matrix",
           "speech_results", "speech_arguments"]


@dataclass(frozen=True)
class ClaimRow:
    speech_id: str
    debate_id: str
    debate_title: str
    speaker: str
    party: str
    date: str
    stance: str
    topics: str
    provider: str
    claim: str
    quote: str
    char_start: int
    char_end: int

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _open(services: Any, collection: str | None) -> tuple[Manifest, ArgumentStore]:
    settings = services.settings
    return Manifest(settings.state_path(collection)), ArgumentStore.for_collection(settings,
                                                                                  collection)


def run_enrichment(services: Any, provider: str | None, collection: str | None = None,
                   debates: Iterable[str] = (), parties: Iterable[str] = (),
                   limit: int | None = None, confirm: Callable[[dict[str, Any]], bool] | None
                   = None, show_progress: bool = False) -> Any:
    """Select, estimate (``confirm`` sees the estimate above 50 speeches), enrich, and set
    the chunks' metadata in Chroma.  Returns the ``EnrichReport`` (None if declined)."""
    from ingest.enrich import enrich, estimate, make_extractor, select_speeches
    from ingest.errors import InputError
    from ingest.store import open_collection

    settings = services.settings
    manifest, store = _open(services, collection)
    try:
        speeches = select_speeches(manifest, debates, parties, limit)
        if not speeches:
            raise InputError("no indexed speeches match (run `hemicycle ingest` first, or "
                             "check --debate / --party)")
        extractor = make_extractor(provider, settings, services.embedder)
        todo = [s for s in speeches if not store.is_current(
            s[0].speech_id, s[1], extractor.name, extractor.prompt_version)]
        if confirm is not None and len(todo) > 50 and not confirm(
                estimate(todo, extractor, settings)):
            return None
        progress: Callable[[Iterable[Any]], Iterable[Any]] = iter
        if show_progress:
            from functools import partial

            from tqdm import tqdm

            progress = partial(tqdm, desc="enriching", unit=" speeches", leave=False)
        chroma = open_collection(services.client, collection or settings.collection)
        return enrich(extractor, speeches, store, progress, chroma, manifest)
    finally:
        manifest.close()
        store.close()


def sample_enrichment(services: Any, provider: str | None, n: int,
                      collection: str | None = None, debates: Iterable[str] = ()
                      ) -> list[tuple[Speech, Any, Counter[str]]]:
    """Extract from ``n`` MEP speeches (not stored): check the prompt and model first."""
    from ingest.enrich import extract_speech, make_extractor, select_speeches
    from ingest.errors import InputError

    manifest, store = _open(services, collection)
    try:
        speeches = [s for s in select_speeches(manifest, debates)
                    if s[0].party and len(s[0].text.split()) >= 40][:n]
    finally:
        manifest.close()
        store.close()
    if not speeches:
        raise InputError("no indexed MEP speeches to sample (run `hemicycle ingest` first)")
    extractor = make_extractor(provider, services.settings, services.embedder)
    return [(speech, *extract_speech(extractor, speech, start)) for speech, _, start in speeches]


def speech_results(services: Any, collection: str | None = None, debates: Iterable[str] = ()
                   ) -> list[tuple[Speech, Any, int]]:
    """Enriched speeches (in debate order) with their stored arguments and the start of
    their text in the debate markdown (claims' offsets minus it index the speech text)."""
    from ingest.enrich import select_speeches

    manifest, store = _open(services, collection)
    try:
        out = []
        for speech, _, start in select_speeches(manifest, debates):
            args = store.get(speech.speech_id)
            if args is not None and args.status == "ok":
                out.append((speech, args, start))
        return out
    finally:
        manifest.close()
        store.close()


def claim_rows(results: Iterable[tuple[Speech, Any, int]], parties: Iterable[str] = (),
               stances: Iterable[str] = (), topics: Iterable[str] = ()) -> list[ClaimRow]:
    groups = {normalize_party(p) for p in parties if p.strip()}
    wanted_stances = {s.strip().lower() for s in stances if s.strip()}
    wanted_topics = {t.strip().lower() for t in topics if t.strip()}
    rows = []
    for speech, args, _ in results:
        if groups and speech.party not in groups:
            continue
        if wanted_stances and args.stance not in wanted_stances:
            continue
        if wanted_topics and not wanted_topics & set(args.topics):
            continue
        for c in args.claims:
            rows.append(ClaimRow(speech.speech_id, speech.debate_id, speech.debate_title,
                                 speech.speaker, speech.party, speech.date, args.stance,
                                 "|".join(args.topics), args.provider, c.claim, c.quote,
                                 c.char_start, c.char_end))
    return rows


def stance_matrix(results: Iterable[tuple[Speech, Any, int]]) -> dict[str, dict[str, int]]:
    """Speeches per political group (rows) and stance (columns)."""
    matrix: dict[str, Counter[str]] = {}
    for speech, args, _ in results:
        matrix.setdefault(speech.party or "(no group)", Counter())[args.stance] += 1
    return {group: {s: counts[s] for s in STANCES} for group, counts in sorted(matrix.items())}


def speech_arguments(services: Any, speech_id: str, collection: str | None = None) -> Any:
    """The stored arguments of one speech (None when not enriched or failed)."""
    path = services.settings.collection_dir(collection) / "arguments.sqlite"
    if not path.exists():
        return None
    store = ArgumentStore(path)
    try:
        args = store.get(speech_id)
    finally:
        store.close()
    return args if args is not None and args.status == "ok" else None
