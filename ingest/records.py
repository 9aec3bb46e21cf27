"""Stream EU Debates records (JSONL, CSV, Parquet) and validate them into ``Speech`` objects.

Readers never load a whole file: JSONL and CSV are read line by line, Parquet batch by batch.
A bad record becomes a ``Reject`` with a reason; it never stops the good ones.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import InputError
from .schema import Speech, content_hash, debate_id_for, normalize_party

__all__ = ["RECORD_SUFFIXES", "Reject", "RecordReader", "iter_raw_records", "to_speech"]

RECORD_SUFFIXES = {".jsonl", ".ndjson", ".csv", ".parquet"}
FIELDS = ("id", "speaker_name", "speaker_party", "speaker_role", "debate_title", "date",
          "text", "translated_text", "intervention_language", "year")
_DATE = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})")

csv.field_size_limit(sys.maxsize)


@dataclass(frozen=True)
class Reject:
    source: str
    position: int  # line number (JSONL/CSV) or row number (Parquet), 1-based
    reason: str
    record_id: str | None = None
    detail: str = ""

    def to_json(self) -> str:
        data = {"source": self.source, "position": self.position, "reason": self.reason,
                "id": self.record_id}
        if self.detail:
            data["detail"] = self.detail
        return json.dumps(data, ensure_ascii=False)


def _jsonl(path: Path) -> Iterator[tuple[int, Mapping[str, Any] | str]]:
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                yield number, "undecodable_bytes"
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                yield number, "invalid_json"
                continue
            yield number, record if isinstance(record, dict) else "not_an_object"


def _csv(path: Path) -> Iterator[tuple[int, Mapping[str, Any] | str]]:
    # surrogateescape keeps undecodable bytes visible as lone surrogates, rejected per record
    with path.open("r", encoding="utf-8-sig", errors="surrogateescape", newline="") as handle:
        reader = csv.DictReader(handle)
        for record in reader:
            number = reader.line_num
            if any(isinstance(v, str) and _has_surrogates(v) for v in record.values()):
                yield number, "undecodable_bytes"
                continue
            yield number, {k: (v if v != "" else None) for k, v in record.items() if k}


def _parquet(path: Path) -> Iterator[tuple[int, Mapping[str, Any] | str]]:
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a broken file
        raise InputError(f"{path}: not a readable Parquet file ({exc})") from None
    number = 0
    for batch in parquet.iter_batches(batch_size=2048):
        for record in batch.to_pylist():
            number += 1
            yield number, record


def _has_surrogates(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def iter_raw_records(path: Path) -> Iterator[tuple[int, Mapping[str, Any] | str]]:
    """Yield ``(position, record)`` or ``(position, reason)`` for an undecodable record."""
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return _jsonl(path)
    if suffix == ".csv":
        return _csv(path)
    if suffix == ".parquet":
        return _parquet(path)
    raise InputError(f"{path}: unsupported record format {suffix!r}")


def _text_field(record: Mapping[str, Any], name: str, required: bool = False) -> str:
    value = record.get(name)
    if value is None:
        if required:
            raise ValueError(f"missing_{name}")
        return ""
    if not isinstance(value, str):
        raise ValueError(f"wrong_type:{name}")
    return value.strip()


def _parse_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        raise ValueError("wrong_type:date" if value is not None else "missing_date")
    match = _DATE.match(value)
    if not match:
        raise ValueError("unparseable_date")
    try:
        return dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise ValueError("unparseable_date") from None


def to_speech(record: Mapping[str, Any], max_chars: int) -> Speech:
    """Validate one record; raise ``ValueError(reason)`` when it cannot be used."""
    text = _text_field(record, "text")
    language = _text_field(record, "intervention_language").lower()
    translated = _text_field(record, "translated_text")
    used_translation = bool(translated) and language != "en"
    if used_translation:
        text = translated
    if not text:
        raise ValueError("missing_text" if record.get("text") is None else "empty_text")
    if len(text) > max_chars:
        raise ValueError("too_long")
    date = _parse_date(record.get("date"))
    year = record.get("year")
    if year is not None and not isinstance(year, int | str) or isinstance(year, bool):
        raise ValueError("wrong_type:year")
    speaker = _text_field(record, "speaker_name") or "unknown"
    party = normalize_party(_text_field(record, "speaker_party"))
    role = _text_field(record, "speaker_role")
    title = _text_field(record, "debate_title") or "Untitled debate"
    raw_id = record.get("id")
    if raw_id is not None and not isinstance(raw_id, str | int):
        raise ValueError("wrong_type:id")
    iso = date.isoformat()
    speech_id = str(raw_id).strip() if raw_id not in (None, "") else (
        "h-" + content_hash(f"{speaker}|{iso}|{title}|{text}", 8))
    return Speech(
        speech_id=speech_id, debate_id=debate_id_for(iso, title), debate_title=title,
        date=iso, year=date.year, speaker=speaker, party=party, role=role,
        language=language or "unknown", text=text, translated=used_translation,
        source=str(record.get("source") or ""), position=_position(record.get("position")),
    )


def _position(value: Any) -> int:
    try:
        return int(value) if value not in (None, "") else 0
    except (TypeError, ValueError):
        return 0


class RecordReader:
    """Turn record files into speeches, counting and remembering rejects.

    ``column_map`` maps our field names to the columns of another layout,
    e.g. ``{"speaker_name": "Speaker", "text": "Body"}``.
    """

    def __init__(self, max_chars: int, column_map: Mapping[str, str] | None = None) -> None:
        self.max_chars = max_chars
        self.column_map = dict(column_map or {})
        unknown = set(self.column_map) - set(FIELDS)
        if unknown:
            raise InputError(f"unknown field(s) in column map: {', '.join(sorted(unknown))}; "
                             f"known: {', '.join(FIELDS)}")

    def _remap(self, record: Mapping[str, Any]) -> Mapping[str, Any]:
        if not self.column_map:
            return record
        mapped = dict(record)
        for field, column in self.column_map.items():
            mapped[field] = record.get(column)
        return mapped

    def read(self, path: Path) -> Iterator[Speech | Reject]:
        source = str(path)
        for position, record in iter_raw_records(path):
            if isinstance(record, str):
                yield Reject(source, position, record)
                continue
            record = self._remap(record)
            if not record.get("source"):  # remember where the speech came from
                record = {**record, "source": source, "position": position}
            try:
                yield to_speech(record, self.max_chars)
            except ValueError as exc:
                rid = record.get("id")
                yield Reject(source, position, str(exc), str(rid) if rid is not None else None)
