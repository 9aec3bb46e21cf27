"""``hemicycle eval parse``: CRE pages parsed by us against the records the EP published.

The speeches parsed from each page are matched to the records of the same sitting day in
the EU Debates JSONL by their text (in page order, so two identical written statements match
two records), then compared field by field: speaker, group (normalised), role (where the
record has one), debate title, language (English or not: the records' only language mark).
Mojibake left is counted in every field with ftfy's detector.
"""

from __future__ import annotations

import json
import re
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.errors import InputError
from ingest.schema import normalize_party

__all__ = ["ParseFigures", "TARGETS", "compare_records", "default_pages", "docx_reader",
           "ingest_throughput", "load_published", "run_parse_eval", "run_parse_folder"]

# figure → (target, higher is better)
TARGETS = {"count_gap": (0.02, False), "attributed": (0.98, True), "speaker": (0.98, True),
           "group": (0.97, True), "title": (0.98, True), "language": (0.95, True),
           "mojibake": (0, False)}


def _key(text: str) -> str:
    return re.sub(r"\W+", "", text.lower())[:300]


@dataclass
class ParseFigures:
    found: int = 0
    published: int = 0
    attributed: int = 0
    matched: int = 0
    speaker_ok: int = 0
    group_ok: int = 0
    role_total: int = 0
    role_ok: int = 0
    title_ok: int = 0
    language_ok: int = 0
    mojibake: int = 0
    seconds: float = 0.0
    days: int = 0
    disagreements: list[str] = field(default_factory=list)

    def share(self, part: int, whole: int) -> float:
        return part / whole if whole else 0.0

    def figures(self) -> dict[str, float]:
        return {
            "count_gap": abs(self.found - self.published) / self.published if self.published
            else 1.0,
            "attributed": self.share(self.attributed, self.found),
            "matched": self.share(self.matched, self.published),
            "speaker": self.share(self.speaker_ok, self.matched),
            "group": self.share(self.group_ok, self.matched),
            "role": self.share(self.role_ok, self.role_total),
            "title": self.share(self.title_ok, self.matched),
            "language": self.share(self.language_ok, self.matched),
            "mojibake": float(self.mojibake),
            "seconds_per_day": self.seconds / self.days if self.days else 0.0,
        }

    def table(self) -> str:
        f = self.figures()
        rows = [
            ("speeches found / published", f"{self.found} / {self.published} "
             f"(gap {f['count_gap']:.1%})", "within 2%"),
            ("attributed to a named speaker", f"{f['attributed']:.1%}", "≥ 98%"),
            ("matched to a record by text", f"{self.matched} ({f['matched']:.1%})", ""),
            ("speaker name agrees", f"{f['speaker']:.1%}", "≥ 98%"),
            ("group agrees", f"{f['group']:.1%}", "≥ 97%"),
            ("role agrees (record has one)", f"{f['role']:.1%} of {self.role_total}", ""),
            ("debate title agrees", f"{f['title']:.1%}", "≥ 98%"),
            ("language correct (en / not en)", f"{f['language']:.1%}", "≥ 95%"),
            ("mojibake left (fields)", f"{self.mojibake}", "0"),
            ("seconds per sitting day", f"{f['seconds_per_day']:.2f}", ""),
        ]
        width = max(len(r[0]) for r in rows)
        return "\n".join(f"{name:<{width}}  {value:<24} {target}" for name, value, target in rows)

    def misses(self) -> list[str]:
        f = self.figures()
        return [name for name, (target, higher) in TARGETS.items()
                if (f[name] < target if higher else f[name] > target)]


def load_published(path: Path, dates: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    """Records of the given sitting days, in file order."""
    wanted = set(dates)
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            if record.get("date") in wanted:
                found[record["date"]].append(record)
    return found


def _bad(text: str) -> bool:
    import ftfy.badness

    return bool(text) and ftfy.badness.is_bad(text)


def compare_records(parsed: list[Mapping[str, Any]], published: list[Mapping[str, Any]],
                    figures: ParseFigures) -> None:
    """Add one day's comparison to ``figures``."""
    queue: dict[str, deque[Mapping[str, Any]]] = defaultdict(deque)
    for record in published:
        queue[_key(record["text"])].append(record)
    figures.found += len(parsed)
    figures.published += len(published)
    note = figures.disagreements.append
    for mine in parsed:
        if mine["speaker_name"] != "unknown":
            figures.attributed += 1
        if any(_bad(str(mine.get(k) or "")) for k in ("speaker_name", "speaker_party",
                                                      "speaker_role", "debate_title", "text")):
            figures.mojibake += 1
        candidates = queue.get(_key(mine["text"]))
        if not candidates:
            note(f"unmatched: {mine['speaker_name']}: {mine['text'][:80]!r}")
            continue
        theirs = candidates.popleft()
        figures.matched += 1
        if theirs["speaker_name"] == mine["speaker_name"]:
            figures.speaker_ok += 1
        else:
            note(f"speaker: {theirs['speaker_name']!r} ≠ {mine['speaker_name']!r}")
        if normalize_party(theirs["speaker_party"]) == normalize_party(mine["speaker_party"]):
            figures.group_ok += 1
        else:
            note(f"group: {theirs['speaker_party']!r} ≠ {mine['speaker_party']!r} "
                 f"({mine['speaker_name']}, {mine['speaker_role']})")
        if theirs.get("speaker_role"):
            figures.role_total += 1
            if theirs["speaker_role"] == mine["speaker_role"]:
                figures.role_ok += 1
            else:
                note(f"role: {theirs['speaker_role']!r} ≠ {mine['speaker_role']!r}")
        if theirs["debate_title"] == mine["debate_title"]:
            figures.title_ok += 1
        else:
            note(f"title: {theirs['debate_title'][:70]!r} ≠ {mine['debate_title'][:70]!r}")
        english = theirs.get("intervention_language") == "en"
        if english == (mine["intervention_language"] == "en"):
            figures.language_ok += 1
        else:
            note(f"language: record {theirs.get('intervention_language')!r}, detected "
                 f"{mine['intervention_language']!r}: {mine['text'][:60]!r}")


def run_parse_eval(pages: list[Path], records_path: Path,
                   parse: Callable[[Path], list[dict[str, Any]]] | None = None) -> ParseFigures:
    """Parse each page (``parse`` defaults to the document reader) and compare."""
    from ingest.documents import document_records

    if not pages:
        raise InputError("no pages to evaluate")
    if not records_path.exists():
        raise InputError(f"{records_path}: published records not found")
    reader = parse or (lambda path: list(document_records(path)))
    figures = ParseFigures()
    parsed_by_day: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for page in pages:
        started = time.perf_counter()
        records = reader(page)
        figures.seconds += time.perf_counter() - started
        figures.days += 1
        for record in records:
            parsed_by_day[record["date"]].append(record)
    published = load_published(records_path, parsed_by_day)
    for day, parsed in sorted(parsed_by_day.items()):
        compare_records(parsed, published.get(day, []), figures)
    return figures


def docx_reader(folder: Path) -> Callable[[Path], list[dict[str, Any]]]:
    """Parse a page's DOCX edition (made by ``cre_to_docx`` in ``folder``) instead of its HTML;
    the time counted includes the conversion."""
    from ingest.documents import document_records

    from .cre_docx import cre_to_docx

    def read(page: Path) -> list[dict[str, Any]]:
        target = folder / f"{page.stem}.docx"
        cre_to_docx(page, target)
        return list(document_records(target))

    return read


def run_parse_folder(source: Path | None, records: Path | None,
                     docx: bool = False) -> tuple[list[Path], Path, ParseFigures]:
    """``run_parse_eval`` on a page or a folder of pages (default: ../shared/corpora)."""
    import tempfile

    from .scale import default_corpus

    source = source or default_pages()
    published = records or default_corpus()
    if source is None or published is None:
        raise InputError("no CRE pages given and ../shared/corpora not found")
    if not source.exists():
        raise InputError(f"{source}: no such file or directory")
    pages = sorted(source.glob("*.htm*")) if source.is_dir() else [source]
    with tempfile.TemporaryDirectory() as tmp:
        figures = run_parse_eval(pages, published, docx_reader(Path(tmp)) if docx else None)
    return pages, published, figures


def default_pages() -> Path | None:
    """The real CRE pages in ../shared/corpora/cre-html, when present."""
    from .scale import default_corpus

    corpus = default_corpus()
    folder = corpus.parent / "cre-html" if corpus else None
    return folder if folder and folder.is_dir() else None


def ingest_throughput(settings: Any, pages: list[Path]) -> dict[str, float]:
    """A whole ingest of the pages into a fresh temporary home: chunks/s end to end."""
    import tempfile

    from ingest.embedder import Embedder
    from ingest.pipeline import ingest_paths
    from ingest.store import open_client

    with tempfile.TemporaryDirectory(prefix="hemicycle-parse-") as home:
        fresh = settings.model_copy(update={"home": Path(home), "chroma_host": None})
        embedder = Embedder(fresh.embedding_model, fresh.embedding_device,
                            fresh.embedding_batch_size)
        report = ingest_paths(fresh, pages, embedder, open_client(fresh))
    return {"speeches": float(sum(report.speeches.values())), "chunks": float(report.chunks_new),
            "seconds": round(report.seconds, 2),
            "chunks_per_second": round(report.chunks_per_second, 2),
            "rejected": float(sum(report.rejected.values()))}
