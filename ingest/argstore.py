"""Extracted arguments, one row per speech, in ``arguments.sqlite`` under the collection.

A row remembers the speech's content key, the provider and the prompt version it was
extracted with, so a re-run skips what is current and a killed run loses at most the speech
in flight (each speech is committed on its own).  ``export_columns`` gives the extracted
columns of a speech for ``hemicycle export``.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from .arguments import SpeechArguments
from .errors import StoreError

__all__ = ["ArgumentStore", "EXPORT_COLUMNS"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS arguments (
    speech_id TEXT PRIMARY KEY, debate_id TEXT NOT NULL, content_key TEXT NOT NULL,
    provider TEXT NOT NULL, prompt_version TEXT NOT NULL, status TEXT NOT NULL,
    stance TEXT NOT NULL, topics TEXT NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS arguments_debate ON arguments(debate_id);
"""

EXPORT_COLUMNS = ("claims", "stance", "topics", "keywords", "argument_types", "targets",
                  "enrichment_status", "enrichment_provider", "enrichment_failure")


class ArgumentStore:
    def __init__(self, path: Path) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(path, timeout=30)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open the arguments store at {path}: {exc}") from None
        self.path = path

    @classmethod
    def for_collection(cls, settings: Any, collection: str | None = None) -> ArgumentStore:
        return cls(settings.collection_dir(collection) / "arguments.sqlite")

    def close(self) -> None:
        self.db.close()

    def is_current(self, speech_id: str, content_key: str, provider: str,
                   prompt_version: str) -> bool:
        """Extracted (successfully) from this very text with this provider and prompt."""
        row = self.db.execute(
            "SELECT 1 FROM arguments WHERE speech_id=? AND content_key=? AND provider=? AND "
            "prompt_version=? AND status='ok'",
            (speech_id, content_key, provider, prompt_version)).fetchone()
        return row is not None

    def put(self, args: SpeechArguments, content_key: str) -> None:
        """Store one speech's result and commit (a failure never replaces a success)."""
        if args.status != "ok":
            row = self.db.execute("SELECT status FROM arguments WHERE speech_id=?",
                                  (args.speech_id,)).fetchone()
            if row and row[0] == "ok":
                return
        self.db.execute(
            "INSERT OR REPLACE INTO arguments VALUES (?,?,?,?,?,?,?,?,?)",
            (args.speech_id, args.debate_id, content_key, args.provider, args.prompt_version,
             args.status, args.stance, "|".join(args.topics),
             json.dumps(args.to_dict(), ensure_ascii=False)))
        self.db.commit()

    def get(self, speech_id: str) -> SpeechArguments | None:
        row = self.db.execute("SELECT body FROM arguments WHERE speech_id=?",
                              (speech_id,)).fetchone()
        return SpeechArguments.from_dict(json.loads(row[0])) if row else None

    def iter(self, debate_ids: Iterable[str] = (), status: str | None = "ok"
             ) -> Iterator[SpeechArguments]:
        sql, params = "SELECT body FROM arguments WHERE 1=1", []
        ids = list(debate_ids)
        if ids:
            sql += f" AND debate_id IN ({','.join('?' * len(ids))})"
            params += ids
        if status:
            sql += " AND status=?"
            params.append(status)
        for (body,) in self.db.execute(sql + " ORDER BY debate_id, speech_id", params):
            yield SpeechArguments.from_dict(json.loads(body))

    def labels(self) -> dict[str, tuple[str, tuple[str, ...], str]]:
        """speech_id -> (stance, topics, provider) of every successful extraction."""
        return {sid: (stance, tuple(t for t in topics.split("|") if t), provider)
                for sid, stance, topics, provider in self.db.execute(
                    "SELECT speech_id, stance, topics, provider FROM arguments "
                    "WHERE status='ok'")}

    def export_columns(self, speech_id: str) -> dict[str, str]:
        """The extracted columns of one speech for an export (``EXPORT_COLUMNS``); a speech
        that failed or was never enriched says so in ``enrichment_status``."""
        args = self.get(speech_id)
        if args is None:
            return {**dict.fromkeys(EXPORT_COLUMNS, ""), "enrichment_status": "not_enriched"}
        ok = args.status == "ok"
        return {
            "claims": args.claims_json() if ok else "",
            "stance": args.stance if ok else "",
            "topics": "|".join(args.topics) if ok else "",
            "keywords": "|".join(args.keywords) if ok else "",
            "argument_types": "|".join(args.argument_types) if ok else "",
            "targets": "|".join(args.targets) if ok else "",
            "enrichment_status": args.status,
            "enrichment_provider": args.provider,
            "enrichment_failure": args.failure,
        }
