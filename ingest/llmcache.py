"""An on-disk cache of structured LLM results under ``HEMICYCLE_HOME/cache``.

Keyed by a hash of (provider, model, prompt version, input): re-running costs zero
requests, and changing a prompt's version re-asks only what that prompt produces.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

from .errors import StoreError
from .schema import content_hash

__all__ = ["LLMCache", "cache_key"]


def cache_key(model_name: str, prompt_version: str, payload: Any) -> str:
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True, default=str)
    return content_hash(f"{model_name}\x1f{prompt_version}\x1f{body}", 20)


class LLMCache:
    def __init__(self, path: Path) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(path, timeout=30, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("CREATE TABLE IF NOT EXISTS results (key TEXT PRIMARY KEY, "
                            "model TEXT NOT NULL, prompt_version TEXT NOT NULL, "
                            "value TEXT NOT NULL)")
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open the LLM cache at {path}: {exc}") from None
        self._lock = threading.Lock()

    def get(self, key: str) -> Any | None:
        with self._lock:
            row = self.db.execute("SELECT value FROM results WHERE key=?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, key: str, model_name: str, prompt_version: str, value: Any) -> None:
        with self._lock:
            self.db.execute("INSERT OR REPLACE INTO results VALUES (?,?,?,?)",
                            (key, model_name, prompt_version, json.dumps(value, ensure_ascii=False)))
            self.db.commit()

    def close(self) -> None:
        self.db.close()
