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
    """An LLM provider failed after retries, or answered with something unusable."""
