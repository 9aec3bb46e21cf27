"""The one adapter between the evaluation and the LLM-client layer (kept small on purpose).

It owns what the shared client layer will own after the merge: results cached on disk under
``HEMICYCLE_HOME/cache/eval`` keyed by (spec, prompt version, hash of the input), one retry when
a reply does not validate, then a recorded failure, and a count of the requests actually sent.
At merge time only the internals of ``CachedLLM`` change (shared limiter and cache).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from ingest.errors import ProviderError

__all__ = ["CachedLLM", "Failure", "cache_key"]

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Failure:
    """A call that failed twice; recorded in the report, never raised."""

    error: str


def cache_key(spec: str, prompt_version: str, payload: Any) -> str:
    body = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
    return hashlib.sha256(f"{spec}\x00{prompt_version}\x00{digest}".encode()).hexdigest()[:32]


class CachedLLM:
    """Disk-cached calls through ``rag.llm.LLMClient`` with request counting."""

    def __init__(self, cache_dir: Path) -> None:
        self.cache_dir = cache_dir
        self.requests = 0
        self.cache_hits = 0

    def _path(self, key: str) -> Path:
        return self.cache_dir / key[:2] / f"{key}.json"

    def cached(self, key: str, compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """``compute()`` once per key; its JSON result is kept on disk."""
        path = self._path(key)
        if path.exists():
            self.cache_hits += 1
            return json.loads(path.read_text(encoding="utf-8"))
        value = compute()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")
        tmp.replace(path)
        return value

    def complete_json(self, client: Any, messages: Sequence[Any], model: type[M],
                      key: str) -> M | Failure:
        """A validated ``model``; a reply that does not validate is asked once more, then
        becomes a ``Failure`` (not cached, so a later run tries again)."""
        path = self._path(key)
        if path.exists():
            self.cache_hits += 1
            return model.model_validate_json(path.read_text(encoding="utf-8"))
        error = ""
        for _ in range(2):
            self.requests += 1
            try:
                value = client.complete_json(messages, model)
            except ProviderError as exc:
                error = str(exc)
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(value.model_dump_json(), encoding="utf-8")
            return value
        return Failure(error)
