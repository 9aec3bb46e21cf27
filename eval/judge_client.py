"""The one adapter between the evaluation and the LLM-client layer (kept small on purpose).

Verdicts go through the shared client layer (``ingest.llm``: limiter, retries, one repair of
invalid JSON) and its on-disk cache, keyed by (spec, prompt version, hash of the input); a
verdict that still fails is recorded, never raised.  Generated answers are cached on disk under
``HEMICYCLE_HOME/cache/eval``.  It counts the requests actually sent.
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
        """A validated ``model`` through the shared client layer (``ingest.llm``: the
        process-wide rate limiter, retries on 429/5xx/timeouts and one repair request for
        invalid JSON), cached in the same on-disk LLM cache as enrichment.  What still fails
        becomes a ``Failure`` (not cached, so a later run tries again); a daily quota stops
        the run."""
        from ingest.llm import QuotaExhausted

        hit = client.cache.get(key)
        if hit is not None:
            self.cache_hits += 1
            return model.model_validate(hit)
        before = client.stats.requests
        try:
            value = client.complete_json(messages, model)
        except QuotaExhausted:
            raise
        except ProviderError as exc:
            return Failure(str(exc))
        finally:
            self.requests += client.stats.requests - before
        client.cache.put(key, client.spec.name, key_version(model), value.model_dump(mode="json"))
        return value


def key_version(model: type[BaseModel]) -> str:
    return f"eval:{model.__name__}"
