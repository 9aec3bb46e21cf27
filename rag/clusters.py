"""Clusters found on a map, named by their most distinctive words (class-based TF-IDF).

Clusters: HDBSCAN (scikit-learn) on the 2-D map, which finds the dense islands t-SNE draws
and leaves scattered points as noise; k-means when HDBSCAN finds fewer than two clusters
(tiny maps).  Names: c-TF-IDF as in BERTopic — the passages of a cluster are one document;
a word's weight is its frequency in the cluster (normalized by the cluster's length) times
``log(1 + A / f)``, with ``A`` the average number of words per cluster and ``f`` the word's
frequency over all clusters.  The top words name the cluster.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Cluster", "find_clusters", "ctfidf_words", "label_clusters"]

# procedural words of any plenary debate: frequent everywhere, distinctive nowhere
_PROCEDURAL = frozenset({
    "president", "madam", "mr", "mrs", "commissioner", "colleagues", "dear", "thank",
    "european", "europe", "eu", "union", "parliament", "commission", "council", "member",
    "states", "debate", "also", "must", "need", "today", "like", "want", "just", "said",
    "say", "think", "going", "make", "made", "one", "would", "could", "can", "will",
    "behalf", "group", "order", "speaker", "floor", "minutes", "minute", "vote",
})


@dataclass(frozen=True)
class Cluster:
    label: int
    words: tuple[str, ...]
    size: int
    x: float  # where the name is drawn: the cluster's medoid-like centre
    y: float
    title: str = ""  # a name given by an LLM (rag.cluster_names); the words otherwise

    @property
    def name(self) -> str:
        return self.title or " · ".join(self.words)


def find_clusters(coords: Any, seed: int = 42) -> Any:
    """A cluster label per point (-1: noise)."""
    import numpy as np
    from sklearn.cluster import HDBSCAN, KMeans

    n = len(coords)
    if n < 6:
        return np.zeros(n, dtype=int)
    labels = HDBSCAN(min_cluster_size=max(5, n // 60), min_samples=5, copy=True).fit_predict(coords)
    if len(set(labels) - {-1}) >= 2:
        return labels
    k = min(8, max(2, n // 5))
    return KMeans(n_clusters=k, n_init=4, random_state=seed).fit_predict(coords)


def ctfidf_words(texts: Sequence[str], labels: Sequence[int],
                 top: int = 3) -> dict[int, tuple[str, ...]]:
    """The ``top`` most distinctive words of each cluster (noise, -1, is not named)."""
    import numpy as np
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

    classes = sorted({int(l) for l in labels} - {-1})
    if not classes:
        return {}
    docs = [" ".join(t for t, l in zip(texts, labels) if l == c) for c in classes]
    vectorizer = CountVectorizer(stop_words=sorted(ENGLISH_STOP_WORDS | _PROCEDURAL),
                                 token_pattern=r"(?u)\b[^\W\d_]{3,}\b", lowercase=True)
    try:
        counts = vectorizer.fit_transform(docs).toarray().astype(float)
    except ValueError:  # nothing but stop words
        return {c: () for c in classes}
    vocab = vectorizer.get_feature_names_out()
    tf = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    average = counts.sum() / len(classes)
    idf = np.log(1 + average / np.maximum(counts.sum(axis=0), 1))
    weights = tf * idf
    result = {}
    for row, c in enumerate(classes):
        best = np.argsort(-weights[row], kind="stable")[:top]
        result[c] = tuple(str(vocab[j]) for j in best if counts[row, j] > 0)
    return result


def label_clusters(coords: Any, texts: Sequence[str], seed: int = 42,
                   top: int = 3) -> tuple[Any, list[Cluster]]:
    """Labels per point and the named clusters, largest first."""
    import numpy as np

    labels = find_clusters(coords, seed)
    words = ctfidf_words(texts, labels, top)
    clusters = []
    for c, named in words.items():
        members = coords[labels == c]
        centre = members.mean(axis=0)
        anchor = members[np.argmin(((members - centre) ** 2).sum(axis=1))]  # a real point
        clusters.append(Cluster(c, named, len(members), float(anchor[0]), float(anchor[1])))
    clusters.sort(key=lambda cl: (-cl.size, cl.label))
    return labels, clusters
