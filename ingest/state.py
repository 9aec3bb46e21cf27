"""The ingest manifest: a SQLite file per collection that makes every step idempotent.

It remembers each speech's content hash, which debates still need (re)indexing, and
the chunks that were written to Chroma, so a re-run does no new work and a killed run
resumes where it stopped.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import asdict
from pathlib import Path

from .errors import StoreError
from .schema import Chunk, Speech

__all__ = ["Manifest"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS speeches (
    speech_id TEXT PRIMARY KEY, debate_id TEXT NOT NULL, seq INTEGER NOT NULL,
    content_key TEXT NOT NULL, chunked_key TEXT, span_start INTEGER, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS speeches_debate ON speeches(debate_id, seq);
CREATE TABLE IF NOT EXISTS debates (
    debate_id TEXT PRIMARY KEY, debate_title TEXT NOT NULL, date TEXT NOT NULL,
    dirty INTEGER NOT NULL DEFAULT 1, attempted INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS debates_dirty ON debates(dirty);
CREATE TABLE IF NOT EXISTS chunks (
    chunk_id TEXT PRIMARY KEY, speech_id TEXT NOT NULL, debate_id TEXT NOT NULL,
    chunk_index INTEGER NOT NULL, char_start INTEGER NOT NULL, char_end INTEGER NOT NULL,
    text TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_debate ON chunks(debate_id);
CREATE INDEX IF NOT EXISTS chunks_speech ON chunks(speech_id);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class Manifest:
    def __init__(self, path: Path) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(path, timeout=30)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open ingest state at {path}: {exc}") from None
        self.path = path
        self.db.execute("CREATE TEMP TABLE IF NOT EXISTS run_speeches (speech_id TEXT PRIMARY KEY)")

    def close(self) -> None:
        self.db.close()

    def commit(self) -> None:
        self.db.commit()

    # -- speeches ---------------------------------------------------------------------------
    def next_seq(self) -> int:
        row = self.db.execute("SELECT COALESCE(MAX(seq), -1) + 1 FROM speeches").fetchone()
        return int(row[0])

    def stage(self, speech: Speech, seq: int) -> str:
        """Record a speech; return 'new', 'changed' or 'unchanged'. Marks debates dirty."""
        key = speech.content_key()
        self.db.execute("INSERT OR IGNORE INTO run_speeches VALUES (?)", (speech.speech_id,))
        row = self.db.execute("SELECT content_key, debate_id FROM speeches WHERE speech_id=?",
                              (speech.speech_id,)).fetchone()
        if row and row[0] == key:
            return "unchanged"
        if row and row[1] != speech.debate_id:
            self.db.execute("UPDATE debates SET dirty=1 WHERE debate_id=?", (row[1],))
        self.db.execute(
            "INSERT INTO speeches(speech_id, debate_id, seq, content_key, body) VALUES (?,?,?,?,?) "
            "ON CONFLICT(speech_id) DO UPDATE SET debate_id=excluded.debate_id, "
            "content_key=excluded.content_key, body=excluded.body",
            (speech.speech_id, speech.debate_id, seq, key,
             json.dumps(asdict(speech), ensure_ascii=False)))
        self.db.execute(
            "INSERT INTO debates(debate_id, debate_title, date, dirty) VALUES (?,?,?,1) "
            "ON CONFLICT(debate_id) DO UPDATE SET dirty=1",
            (speech.debate_id, speech.debate_title, speech.date))
        return "changed" if row else "new"

    def debate_speeches(self, debate_id: str) -> list[tuple[Speech, str | None, int | None]]:
        """Speeches of a debate in speaking order, with the key they were chunked at."""
        rows = self.db.execute(
            "SELECT body, chunked_key, span_start FROM speeches WHERE debate_id=? ORDER BY seq",
            (debate_id,)).fetchall()
        return [(Speech(**json.loads(body)), chunked, span) for body, chunked, span in rows]

    def speech(self, speech_id: str) -> Speech | None:
        row = self.db.execute("SELECT body FROM speeches WHERE speech_id=?",
                              (speech_id,)).fetchone()
        return Speech(**json.loads(row[0])) if row else None

    def iter_speeches(self) -> Iterator[Speech]:
        """Every speech, by date, then in the order it was ingested (page order)."""
        for (body,) in self.db.execute(
                "SELECT s.body FROM speeches s JOIN debates d USING (debate_id) "
                "ORDER BY d.date, s.seq"):
            yield Speech(**json.loads(body))

    def delete_speeches(self, speech_ids: Iterable[str]) -> list[str]:
        """Forget speeches (inside the open transaction); return their debates, marked dirty."""
        ids = list(speech_ids)
        debates = sorted({d for sid in ids for (d,) in self.db.execute(
            "SELECT debate_id FROM speeches WHERE speech_id=?", (sid,))})
        self.db.executemany("DELETE FROM speeches WHERE speech_id=?", [(i,) for i in ids])
        self.db.executemany("UPDATE debates SET dirty=1 WHERE debate_id=?",
                            [(d,) for d in debates])
        return debates

    def drop_empty_debate(self, debate_id: str) -> list[str]:
        """Delete a debate that has no speech left; return its chunk ids (to delete)."""
        chunks = [c for (c,) in self.db.execute(
            "SELECT chunk_id FROM chunks WHERE debate_id=?", (debate_id,))]
        self.db.execute("DELETE FROM chunks WHERE debate_id=?", (debate_id,))
        self.db.execute("DELETE FROM debates WHERE debate_id=?", (debate_id,))
        return chunks

    # -- debates ----------------------------------------------------------------------------
    def dirty_debates(self) -> list[tuple[str, int]]:
        return [(d, a) for d, a in self.db.execute(
            "SELECT debate_id, attempted FROM debates WHERE dirty=1 ORDER BY date, debate_id")]

    def mark_attempted(self, debate_ids: Iterable[str]) -> None:
        self.db.executemany("UPDATE debates SET attempted=1 WHERE debate_id=?",
                            [(d,) for d in debate_ids])
        self.db.commit()

    def mark_all_dirty(self) -> None:
        self.db.execute("UPDATE debates SET dirty=1, attempted=1")
        self.db.commit()

    # -- chunks -----------------------------------------------------------------------------
    def debate_chunks(self, debate_id: str) -> dict[str, tuple[int, int]]:
        return {cid: (s, e) for cid, s, e in self.db.execute(
            "SELECT chunk_id, char_start, char_end FROM chunks WHERE debate_id=?", (debate_id,))}

    def speech_chunks(self, speech_id: str) -> list[tuple[str, int, int, int, str]]:
        return self.db.execute(
            "SELECT chunk_id, chunk_index, char_start, char_end, text FROM chunks "
            "WHERE speech_id=? ORDER BY chunk_index", (speech_id,)).fetchall()

    def finish_debate(self, debate_id: str, chunks: list[Chunk],
                      speech_spans: dict[str, tuple[str, int]]) -> None:
        """Replace the debate's chunk rows and mark it clean (inside the open transaction)."""
        self.db.execute("DELETE FROM chunks WHERE debate_id=?", (debate_id,))
        self.db.executemany(
            "INSERT OR REPLACE INTO chunks VALUES (?,?,?,?,?,?,?)",
            [(c.chunk_id, c.speech_id, c.debate_id, c.chunk_index, c.char_start, c.char_end,
              c.text) for c in chunks])
        self.db.executemany(
            "UPDATE speeches SET chunked_key=?, span_start=? WHERE speech_id=?",
            [(key, start, sid) for sid, (key, start) in speech_spans.items()])
        self.db.execute("UPDATE debates SET dirty=0, attempted=0 WHERE debate_id=?", (debate_id,))

    def keep_only_chunks(self, present: set[str]) -> None:
        """Forget chunks that are not in Chroma, so their speeches are embedded again."""
        missing = [cid for (cid,) in self.db.execute("SELECT chunk_id FROM chunks")
                   if cid not in present]
        self.db.executemany(
            "UPDATE speeches SET chunked_key=NULL WHERE speech_id="
            "(SELECT speech_id FROM chunks WHERE chunk_id=?)", [(c,) for c in missing])
        self.db.executemany("DELETE FROM chunks WHERE chunk_id=?", [(c,) for c in missing])
        self.db.commit()

    def run_chunk_count(self) -> int:
        """Chunks of the speeches staged through this connection (this run's input)."""
        return int(self.db.execute(
            "SELECT COUNT(*) FROM chunks WHERE speech_id IN (SELECT speech_id FROM run_speeches)"
        ).fetchone()[0])

    def chunk_count(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0])

    def iter_chunks(self) -> Iterator[tuple[str, str, str]]:
        """(chunk_id, speech_id, text) for every indexed chunk, in a stable order."""
        yield from self.db.execute("SELECT chunk_id, speech_id, text FROM chunks ORDER BY chunk_id")

    def stats(self) -> dict[str, object]:
        """Speeches, debates and chunks indexed, by political group and by year."""
        db = self.db
        indexed = "speech_id IN (SELECT speech_id FROM chunks)"
        by_party = {p or "(none)": n for p, n in db.execute(
            f"SELECT json_extract(body, '$.party') p, COUNT(*) FROM speeches WHERE {indexed} "
            "GROUP BY p ORDER BY COUNT(*) DESC")}
        by_year = {str(y): n for y, n in db.execute(
            f"SELECT json_extract(body, '$.year') y, COUNT(*) FROM speeches WHERE {indexed} "
            "GROUP BY y ORDER BY y")}
        return {
            "speeches": sum(by_party.values()),
            "debates": db.execute("SELECT COUNT(DISTINCT debate_id) FROM chunks").fetchone()[0],
            "chunks": self.chunk_count(),
            "by_party": by_party,
            "by_year": by_year,
        }

    def speakers(self) -> list[str]:
        return [s for (s,) in self.db.execute(
            "SELECT DISTINCT json_extract(body, '$.speaker') FROM speeches ORDER BY 1")]

    # -- meta -------------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?,?)", (key, value))
        self.db.commit()
