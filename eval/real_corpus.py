"""The evaluation corpus for ``data/eval/real-questions.jsonl``: a documented, deterministic
subset of the real verbatim reports in ``../shared/corpora/ep-cre-10-dev.jsonl``.

It is every English speech (``intervention_language == "en"``) of the ten sitting days the
questions were written from, in file order: the gold speeches plus every other debate of those
days as distractors (the chair, blue cards, one-liners and written statements included).  The
subset is written to a temporary file for ingest; it is never copied into the repository.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ingest.errors import InputError

__all__ = ["REAL_DAYS", "real_records", "write_real_corpus"]

REAL_DAYS: tuple[str, ...] = (
    "2024-09-17", "2024-10-22", "2024-11-27", "2025-03-12", "2025-05-21",
    "2025-06-17", "2025-07-08", "2025-09-10", "2025-10-07", "2025-10-22",
)


def real_records(source: Path, days: tuple[str, ...] = REAL_DAYS) -> Iterator[dict[str, Any]]:
    """The records of the evaluation corpus, in the order of ``source``."""
    wanted = set(days)
    try:
        with source.open(encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                if record.get("date") in wanted and record.get("intervention_language") == "en":
                    yield record
    except OSError as exc:
        raise InputError(f"{source}: {exc.strerror}") from None


def write_real_corpus(source: Path, dest: Path, days: tuple[str, ...] = REAL_DAYS) -> int:
    """Write the subset to ``dest`` (JSONL); return the number of speeches."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with dest.open("w", encoding="utf-8") as out:
        for record in real_records(source, days):
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    return count
