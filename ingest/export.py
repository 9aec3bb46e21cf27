"""Export a collection as a dataset: one record per ingested speech, EU Debates layout.

Columns: ``id, speaker_name, speaker_party, speaker_role, debate_title, date, year,
intervention_language, text, translated_text, source, position`` plus any columns an
``extra`` callback adds per speech (the arguments issue adds its columns this way).
A speech whose text is a translation is written with that text as ``translated_text`` and
an empty ``text`` (the original was never ingested), so re-ingesting the export gives the
same speeches.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from .errors import InputError
from .schema import Speech
from .settings import Settings
from .state import Manifest

__all__ = ["EXPORT_COLUMNS", "EXPORT_SUFFIXES", "export_records", "export_speeches",
           "speech_record"]

EXPORT_COLUMNS = ("id", "speaker_name", "speaker_party", "speaker_role", "debate_title", "date",
                  "year", "intervention_language", "text", "translated_text", "source",
                  "position")
EXPORT_SUFFIXES = (".jsonl", ".csv", ".parquet")
Extra = Callable[[Speech], Mapping[str, Any]]


def speech_record(speech: Speech) -> dict[str, Any]:
    """One speech in the EU Debates record layout."""
    return {
        "id": speech.speech_id, "speaker_name": speech.speaker, "speaker_party": speech.party,
        "speaker_role": speech.role, "debate_title": speech.debate_title, "date": speech.date,
        "year": speech.year, "intervention_language": speech.language,
        "text": "" if speech.translated else speech.text,
        "translated_text": speech.text if speech.translated else "",
        "source": speech.source, "position": speech.position,
    }


def export_records(settings: Settings, collection: str | None = None,
                   extra: Extra | None = None) -> Iterator[dict[str, Any]]:
    """Records of every speech of a collection, with the ``extra`` columns appended."""
    path = settings.state_path(collection)
    if not path.exists():
        raise InputError(f"no collection {collection or settings.collection!r} "
                         f"under {settings.home} (ingest something first)")
    manifest = Manifest(path)
    try:
        for speech in manifest.iter_speeches():
            record = speech_record(speech)
            if extra is not None:
                record.update(extra(speech))
            yield record
    finally:
        manifest.close()


def export_speeches(settings: Settings, target: Path, collection: str | None = None,
                    extra: Extra | None = None) -> int:
    """Write the collection to ``target`` (.jsonl, .csv or .parquet); return the count."""
    suffix = target.suffix.lower()
    if suffix not in EXPORT_SUFFIXES:
        raise InputError(f"{target}: unsupported export format {suffix or '(none)'!r}; "
                         f"use one of {', '.join(EXPORT_SUFFIXES)}")
    records = export_records(settings, collection, extra)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    count = {".jsonl": _jsonl, ".csv": _csv, ".parquet": _parquet}[suffix](records, partial)
    if count == 0:
        partial.unlink(missing_ok=True)
        raise InputError(f"collection {collection or settings.collection!r} holds no speeches")
    partial.replace(target)
    return count


def _jsonl(records: Iterator[dict[str, Any]], path: Path) -> int:
    count = 0
    with path.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    return count


def _csv(records: Iterator[dict[str, Any]], path: Path) -> int:
    count = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer: csv.DictWriter[str] | None = None
        for record in records:
            if writer is None:
                writer = csv.DictWriter(handle, fieldnames=list(record))
                writer.writeheader()
            writer.writerow(record)
            count += 1
    return count


def _parquet(records: Iterator[dict[str, Any]], path: Path, batch: int = 2048) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    count = 0
    writer = None
    rows: list[dict[str, Any]] = []
    try:
        for record in records:
            rows.append(record)
            if len(rows) == batch:
                writer = _write_batch(pa, pq, writer, rows, path)
                count, rows = count + len(rows), []
        if rows:
            writer = _write_batch(pa, pq, writer, rows, path)
            count += len(rows)
    finally:
        if writer is not None:
            writer.close()
    return count


def _write_batch(pa: Any, pq: Any, writer: Any, rows: list[dict[str, Any]], path: Path) -> Any:
    table = pa.Table.from_pylist(rows, schema=writer.schema if writer is not None else None)
    if writer is None:
        writer = pq.ParquetWriter(path, table.schema)
    writer.write_table(table)
    return writer
