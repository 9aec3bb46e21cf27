"""Cluster names from an LLM, when one is configured: 2-5 words per cluster of a map.

One request names every cluster of a map: each cluster's most distinctive words (c-TF-IDF,
``rag.clusters``) and a few short passages nearest its centre go in; a validated
``ClusterNames`` comes out.  The call goes through the shared client (``ingest.llm``): rate
limited, retried, and cached on disk under (model, prompt version, input), so naming the same
map again sends nothing.  When the LLM still fails, the clusters keep their word labels and
the caller gets a one-line warning to show.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from pydantic import BaseModel, field_validator

from ingest.errors import HemicycleError
from ingest.llm import LLMClient, parse_spec
from ingest.settings import Settings

from .clusters import Cluster, ctfidf_words
from .prompts import CLUSTER_NAME_PROMPT_VERSION, cluster_name_messages

__all__ = ["ClusterName", "ClusterNames", "cluster_namer", "name_clusters"]

_WORDS = 8  # distinctive words shown per cluster
_SAMPLES = 3  # passages shown per cluster
_SAMPLE_WORDS = 40


class ClusterName(BaseModel):
    cluster: int
    name: str

    @field_validator("name")
    @classmethod
    def _two_to_five_words(cls, value: str) -> str:
        name = " ".join(value.strip().strip('"').split())
        if not 2 <= len(name.split()) <= 5:
            raise ValueError(f"a name has 2 to 5 words, got {name!r}")
        return name


class ClusterNames(BaseModel):
    names: list[ClusterName]


def cluster_namer(spec: str, settings: Settings) -> LLMClient:
    """The client that names clusters (``ConfigError`` for a bad spec or a missing key)."""
    return LLMClient(parse_spec(spec, settings), settings)


def _samples(coords: Any, labels: Any, texts: Sequence[str], cluster: Cluster) -> list[str]:
    import numpy as np

    members = np.flatnonzero(labels == cluster.label)
    distance = ((coords[members] - np.array([cluster.x, cluster.y])) ** 2).sum(axis=1)
    nearest = members[np.argsort(distance, kind="stable")[:_SAMPLES]]
    return [" ".join(texts[i].split()[:_SAMPLE_WORDS]) for i in nearest]


def name_clusters(clusters: list[Cluster], labels: Any, coords: Any, texts: Sequence[str],
                  client: LLMClient) -> tuple[list[Cluster], str | None]:
    """The clusters with LLM names (``title``), and a warning when the LLM failed (the
    clusters then keep their word labels; a cluster the reply left out keeps its words)."""
    named = [c for c in clusters if c.words]
    if not named:
        return clusters, None
    words = ctfidf_words(texts, labels, _WORDS)
    messages = cluster_name_messages(
        [(c.label, words.get(c.label, c.words), _samples(coords, labels, texts, c))
         for c in named])
    try:
        reply = client.complete_json(messages, ClusterNames,
                                     prompt_version=CLUSTER_NAME_PROMPT_VERSION,
                                     max_tokens=40 + 24 * len(named))
    except HemicycleError as exc:
        why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return clusters, f"cluster names by {client.spec.name} failed, word labels kept: {why}"
    titles = {n.cluster: n.name for n in reply.names}
    return [replace(c, title=titles.get(c.label, "")) for c in clusters], None
