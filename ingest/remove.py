"""Take speeches out of a collection: by speech id, by debate id, or by the file they came from.

The manifest forgets them, their debates are re-rendered and re-chunked without them (so the
debate markdown and Chroma agree, and stale chunks are deleted), and a debate left with no
speech loses its markdown file, its chunks and its row.  The index version changes, so the
search mirror reloads.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .embedder import Embedder
from .errors import InputError
from .pipeline import IngestReport, Ingestor
from .settings import Settings

__all__ = ["RemoveReport", "remove_speeches"]


@dataclass(frozen=True)
class RemoveReport:
    speeches_removed: int
    debates_emptied: int
    debates_reindexed: int
    chunks_removed: int

    def summary(self) -> str:
        return (f"removed {self.speeches_removed} speech(es); debates emptied: "
                f"{self.debates_emptied}, re-indexed: {self.debates_reindexed}; "
                f"chunks removed: {self.chunks_removed}")


def _same_file(stored: str, wanted: Path) -> bool:
    return bool(stored) and (stored == str(wanted) or Path(stored).resolve() == wanted.resolve())


def _selected(ingestor: Ingestor, speech: str | None, debate: str | None,
              source: Path | None) -> list[str]:
    db = ingestor.manifest.db
    if speech is not None:
        return [s for (s,) in db.execute("SELECT speech_id FROM speeches WHERE speech_id=?",
                                         (speech,))]
    if debate is not None:
        return [s for (s,) in db.execute("SELECT speech_id FROM speeches WHERE debate_id=?",
                                         (debate,))]
    assert source is not None
    return [s for s, stored in db.execute(
        "SELECT speech_id, json_extract(body, '$.source') FROM speeches")
        if _same_file(stored or "", source)]


def remove_speeches(settings: Settings, embedder: Embedder, client: Any,
                    collection: str | None = None, *, speech: str | None = None,
                    debate: str | None = None, source: Path | None = None) -> RemoveReport:
    """Remove what one of ``speech``, ``debate`` or ``source`` selects; raise if nothing."""
    if sum(x is not None for x in (speech, debate, source)) != 1:
        raise InputError("give exactly one of --speech ID, --debate ID or --source PATH")
    name = collection or settings.collection
    if not settings.state_path(name).exists():
        raise InputError(f"no collection {name!r} under {settings.home}")
    ingestor = Ingestor(settings, embedder, client, name)
    try:
        ids = _selected(ingestor, speech, debate, source)
        if not ids:
            what = (f"speech {speech!r}" if speech is not None else f"debate {debate!r}"
                    if debate is not None else f"speeches read from {source}")
            raise InputError(f"no {what} in collection {name!r}")
        manifest = ingestor.manifest
        debates = manifest.delete_speeches(ids)
        emptied, stale = 0, []
        for debate_id in debates:
            left = manifest.db.execute("SELECT COUNT(*) FROM speeches WHERE debate_id=?",
                                       (debate_id,)).fetchone()[0]
            if left == 0:
                stale.extend(manifest.drop_empty_debate(debate_id))
                (ingestor.markdown_dir / f"{debate_id}.md").unlink(missing_ok=True)
                emptied += 1
        if stale:
            ingestor.collection.delete(ids=stale)
        manifest.commit()
        report = IngestReport()
        ingestor.index(report)
        manifest.set_meta("index_version", f"{time.time_ns():x}")
    finally:
        ingestor.close()
    return RemoveReport(len(ids), emptied, report.debates_indexed,
                        len(stale) + report.chunks_removed)
