"""A client-side rate limiter for LLM providers, shared by every LLM call of the process.

Providers publish per-model limits in requests/minute (RPM) and tokens/minute (TPM); going
over them earns a 429 and a wait.  ``RateLimiter`` keeps both budgets over a sliding
60-second window: ``acquire(tokens)`` blocks until one more request of (an estimate of)
``tokens`` fits, ``settle`` replaces the estimate by the tokens the provider reported.
``limiter_for`` returns the one limiter of a (provider, model, endpoint), so answers,
enrichment and the judge of one process draw on the same budget.

Defaults are the Groq free tier (console.groq.com/docs/rate-limits, checked 2026-11);
``HEMICYCLE_LLM_RPM`` / ``HEMICYCLE_LLM_TPM`` override them for any provider.
"""

from __future__ import annotations

import re
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass

__all__ = ["Limits", "RateLimiter", "GROQ_FREE_TIER", "default_limits", "limiter_for",
           "parse_duration", "retry_after_seconds"]

WINDOW_S = 60.0


@dataclass(frozen=True)
class Limits:
    rpm: int | None  # None: unlimited
    tpm: int | None


# Groq free tier, per model: (RPM, TPM).  Unknown Groq models get the smallest of these.
GROQ_FREE_TIER: dict[str, Limits] = {
    "llama-3.1-8b-instant": Limits(30, 6_000),
    "llama-3.3-70b-versatile": Limits(30, 12_000),
    "meta-llama/llama-4-scout-17b-16e-instruct": Limits(30, 30_000),
    "meta-llama/llama-4-maverick-17b-128e-instruct": Limits(30, 6_000),
    "openai/gpt-oss-20b": Limits(30, 8_000),
    "openai/gpt-oss-120b": Limits(30, 8_000),
    "qwen/qwen3-32b": Limits(60, 6_000),
}


def default_limits(provider: str, model: str, rpm: int | None = None,
                   tpm: int | None = None) -> Limits:
    """Configured limits first, then the provider's free tier (Groq), else unlimited."""
    base = GROQ_FREE_TIER.get(model, Limits(30, 6_000)) if provider == "groq" else \
        Limits(None, None)
    return Limits(rpm if rpm is not None else base.rpm, tpm if tpm is not None else base.tpm)


class RateLimiter:
    """Sliding-window RPM + TPM budget; thread-safe; ``clock``/``sleep`` injectable."""

    def __init__(self, limits: Limits, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep, window_s: float = WINDOW_S) -> None:
        self.limits = limits
        self.window_s = window_s + min(0.25, 0.02 * window_s)  # clock differences
        self._clock, self._sleep = clock, sleep
        self._events: deque[list[float]] = deque()  # [time, tokens], oldest first
        self._lock = threading.Lock()
        self.waited_s = 0.0

    def _prune(self, now: float) -> None:
        while self._events and self._events[0][0] <= now - self.window_s:
            self._events.popleft()

    def _wait_needed(self, now: float, tokens: float) -> float:
        rpm, tpm = self.limits.rpm, self.limits.tpm
        wait = 0.0
        if rpm is not None and len(self._events) + 1 > rpm:
            wait = max(wait, self._events[len(self._events) - rpm][0] + self.window_s - now)
        if tpm is not None and self._events:
            need = min(tokens, tpm)  # a request larger than the budget waits for an empty window
            used = sum(e[1] for e in self._events)
            if used + need > tpm:
                freed = used
                for event in self._events:
                    freed -= event[1]
                    if freed + need <= tpm:
                        wait = max(wait, event[0] + self.window_s - now)
                        break
        return wait

    def acquire(self, tokens: float) -> list[float]:
        """Block until a request of ``tokens`` fits; return its handle for ``settle``."""
        while True:
            with self._lock:
                now = self._clock()
                self._prune(now)
                wait = self._wait_needed(now, tokens)
                if wait <= 0:
                    event = [now, float(tokens)]
                    self._events.append(event)
                    return event
            self.waited_s += wait + 0.01
            self._sleep(wait + 0.01)

    def settle(self, handle: list[float], tokens: float | None) -> None:
        """A request came back: replace its estimate by the tokens it really used (when
        reported), and date it from now: the provider saw it at some moment between
        ``acquire`` and now, so its window cannot end before ours."""
        with self._lock:
            handle[0] = max(handle[0], self._clock())
            if tokens is not None:
                handle[1] = float(tokens)
            ordered = sorted(self._events, key=lambda e: e[0])
            self._events.clear()
            self._events.extend(ordered)

    def pause_until(self, seconds: float) -> None:
        """After a 429: hold every caller for ``seconds`` (the provider's retry-after)."""
        self._sleep(max(0.0, seconds))


_LIMITERS: dict[tuple[str, str, str, int | None, int | None], RateLimiter] = {}
_REGISTRY_LOCK = threading.Lock()


def limiter_for(provider: str, model: str, endpoint: str, limits: Limits) -> RateLimiter:
    """The process-wide limiter of one (provider, model, endpoint, limits)."""
    key = (provider, model, endpoint, limits.rpm, limits.tpm)
    with _REGISTRY_LOCK:
        if key not in _LIMITERS:
            _LIMITERS[key] = RateLimiter(limits)
        return _LIMITERS[key]


_DURATION = re.compile(r"(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?"
                       r"(?:(\d+(?:\.\d+)?)ms)?$")


def parse_duration(value: str | None) -> float | None:
    """Groq's reset headers (``7.66s``, ``2m59.56s``, ``1h2m3s``, ``120ms``) or plain seconds."""
    if not value:
        return None
    text = value.strip()
    try:
        return float(text)
    except ValueError:
        pass
    match = _DURATION.match(text)
    if not match or not any(match.groups()):
        return None
    h, m, s, ms = (float(g) if g else 0.0 for g in match.groups())
    return h * 3600 + m * 60 + s + ms / 1000


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """How long a 429 asks to wait: ``retry-after``; else Groq's reset headers (the
    requests one is per day: it applies when no request is left, else the tokens one)."""
    low = {k.lower(): v for k, v in headers.items()}
    if "retry-after" in low:
        return parse_duration(low["retry-after"])
    requests = parse_duration(low.get("x-ratelimit-reset-requests"))
    tokens = parse_duration(low.get("x-ratelimit-reset-tokens"))
    if low.get("x-ratelimit-remaining-requests", "").strip() == "0" and requests is not None:
        return requests
    return tokens if tokens is not None else requests
