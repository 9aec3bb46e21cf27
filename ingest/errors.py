"""The project's exception hierarchy.

Library code raises these; only the CLI and the UI turn them into one readable line.
"""

from __future__ import annotations

__all__ = [
    "HemicycleError",
    "ConfigError",
    "InputError",
    "StoreError",
    "ProviderError",
    "QuotaExhausted",
]


class HemicycleError(Exception):
    """Base class: a problem the user can act on, reported as one line."""


class ConfigError(HemicycleError):
    """Missing or invalid configuration (a key, a model path, a setting)."""


class InputError(HemicycleError):
    """A path, file or record the user gave cannot be used."""


class StoreError(HemicycleError):
    """The Chroma index or the local state cannot be opened or reached."""


class ProviderError(HemicycleError):
    """An LLM provider failed after retries, or answered with something unusable.

    ``reason`` is a short key for summaries (``http_503``, ``timeout``, ``invalid_json``...)."""

    def __init__(self, message: str, reason: str = "provider_error") -> None:
        super().__init__(message)
        self.reason = reason


class QuotaExhausted(ProviderError):
    """A provider's daily quota is used up: the run stops cleanly and says when to resume."""

    def __init__(self, message: str, resume_at: str = "") -> None:
        super().__init__(message, "daily_quota")
        self.resume_at = resume_at
