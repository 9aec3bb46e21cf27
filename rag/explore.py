"""Maps of the corpus: 2-D projections of the embeddings, with the query placed on them.

A map is built from the in-memory mirror (``CorpusIndex``: records + embeddings).  Points
are chunks, or speeches (the mean of their chunks' vectors, re-normalized).  The sample is
stratified by debate (each debate keeps its share, at least one point) with a fixed seed.
Projection: t-SNE with openTSNE (cosine affinities, PCA initialization, fixed seed; one
thread, so the same settings give the same picture) or PCA (scikit-learn) as the fast
alternative.  A query, and retrieved passages outside the sample, are placed on an existing
map with openTSNE's ``TSNEEmbedding.transform`` (affinities to the map's points, then a
short optimization with the map held fixed) or ``PCA.transform``.

Maps are cached under the collection folder keyed by (index version, unit, sample, method,
params, filters): reopening is a file read; an ingest changes the index version, so old
maps are no longer found and are removed at the next save.
"""

from __future__ import annotations

import functools
import hashlib
import json
import pickle
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ingest.errors import InputError
from ingest.settings import Settings

from .filters import SearchFilters
from .index import ChunkRecord, CorpusIndex

__all__ = ["map_cache_dir", "MapSpec", "CorpusMap", "QueryPlacement", "GroupPosition",
           "METHODS", "UNITS", "COLOR_KEYS", "color_keys", "color_value", "build_map",
           "sample_items", "place_query", "group_positions"]

METHODS = ("tsne", "pca")
UNITS = ("chunk", "speech")
# colour key -> label; stance and topics exist only when arguments were extracted
COLOR_KEYS = {"party": "Political group", "debate": "Debate", "speaker": "Speaker",
              "year": "Year", "language": "Language", "stance": "Stance", "topics": "Topic"}
_OPTIONAL_KEYS = ("stance", "topics")
_CACHE_VERSION = "2"  # 2: t-SNE with 350 instead of 500 iterations after exaggeration
# openTSNE's 250 early-exaggeration iterations, then 350 (its default is 500): 27 % less CPU at
# 5,000 points with 93 % of each point's 10 nearest neighbours on the map unchanged and the
# same neighbourhood preservation of the 384-d neighbours (README, "Explore map")
_TSNE_ITER = 350


def map_cache_dir(settings: Settings, collection: str | None = None) -> Path:
    """Where a collection's maps are cached (removed with the collection)."""
    return settings.collection_dir(collection) / "maps"


@dataclass(frozen=True)
class MapSpec:
    """What a map is made of; equal specs on an unchanged collection give the same map."""

    method: str = "tsne"
    sample: int = 5000
    perplexity: float = 30.0
    unit: str = "chunk"
    seed: int = 42

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise InputError(f"unknown projection {self.method!r}; choose one of "
                             f"{', '.join(METHODS)}")
        if self.unit not in UNITS:
            raise InputError(f"unknown map unit {self.unit!r}; choose one of {', '.join(UNITS)}")
        if self.sample < 2:
            raise InputError("the sample needs at least 2 points")
        if not 5 <= self.perplexity <= 50:
            raise InputError(f"perplexity must be between 5 and 50, got {self.perplexity:g}")

    def key(self, version: str, filters: SearchFilters | None) -> str:
        params = asdict(self) | {"version": version, "cache": _CACHE_VERSION,
                                 "filters": repr(filters) if filters and filters.active else ""}
        if self.method == "pca":
            params.pop("perplexity")
        return hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:20]


@dataclass
class CorpusMap:
    """Points on the plane: ``rows[i]`` are the mirror rows (chunks) behind point ``i``."""

    spec: MapSpec
    version: str
    rows: list[tuple[int, ...]]
    coords: Any  # float32 (n, 2)
    seconds: float = 0.0  # time to build (0 when read from the cache)
    cached: bool = False
    model_path: Path | None = None
    _model: Any = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.rows)

    def record(self, index: CorpusIndex, i: int) -> ChunkRecord:
        """The record shown for point ``i`` (a speech's first chunk in speech mode)."""
        return index.records[self.rows[i][0]]

    def point_of(self, index: CorpusIndex) -> dict[str, int]:
        """Point number by chunk id (speech mode: every chunk of a speech → its point)."""
        return {index.records[r].chunk_id: i for i, rows in enumerate(self.rows) for r in rows}

    @property
    def model(self) -> Any:
        if self._model is None and self.model_path is not None:
            self._model = pickle.loads(self.model_path.read_bytes())
        return self._model

    def place(self, vectors: Any) -> Any:
        """2-D positions of new vectors on this map (openTSNE transform / PCA transform)."""
        import numpy as np

        vectors = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
        if self.spec.method == "pca":
            return self.model.transform(vectors).astype(np.float32)
        with _threads().limit(limits=1):
            placed = self.model.transform(vectors, n_iter=25)
        return np.asarray(placed, dtype=np.float32)


@dataclass(frozen=True)
class QueryPlacement:
    query: str
    xy: tuple[float, float]
    hits: list[Any]  # rag.retriever.Hit, best first
    hit_xy: list[tuple[float, float]]
    hit_points: list[int]  # the map point of each hit, -1 when it is outside the sample
    seconds: float  # placing the embedded query (and hits outside the sample) on the map
    embed_seconds: float  # embedding the query


@dataclass(frozen=True)
class GroupPosition:
    group: str
    n: int
    x: float
    y: float
    spread: float  # root-mean-square distance of the group's points to its centroid


def color_keys(index: CorpusIndex) -> list[str]:
    """The colour keys this collection has (stance and topic only when extracted)."""
    keys = [k for k in COLOR_KEYS if k not in _OPTIONAL_KEYS]
    return keys + [k for k in _OPTIONAL_KEYS
                   if any(getattr(r, k, None) for r in index.records)]


def color_value(record: ChunkRecord, key: str) -> str:
    """The value a point is coloured by; a missing group or value is shown as '—'."""
    if key == "debate":
        value = f"{record.debate_title} ({record.date})"
    elif key == "topics":  # a joined string: the first topic names the colour
        value = str(getattr(record, "topics", "") or "").split(";")[0].split(",")[0].strip()
    else:
        value = getattr(record, key, None)
    return str(value) if value not in (None, "") else "—"


def sample_items(index: CorpusIndex, spec: MapSpec,
                 filters: SearchFilters | None = None) -> list[tuple[int, ...]]:
    """The map's points as tuples of mirror rows, stratified by debate with a fixed seed.

    Each debate gets its share of ``spec.sample`` (largest remainders, at least one point
    while the sample allows); the points are returned in mirror order.
    """
    import numpy as np

    mask = index.mask(filters)
    allowed = np.flatnonzero(mask) if mask is not None else np.arange(len(index))
    if spec.unit == "speech":
        by_speech: dict[int, list[int]] = {}
        for row in allowed:
            by_speech.setdefault(int(index.speech_code[row]), []).append(int(row))
        items = [tuple(rows) for rows in by_speech.values()]
    else:
        items = [(int(row),) for row in allowed]
    if len(items) <= spec.sample:
        return sorted(items)
    rng = np.random.default_rng(spec.seed)
    by_debate: dict[int, list[tuple[int, ...]]] = {}
    for item in items:
        by_debate.setdefault(int(index.debate_code[item[0]]), []).append(item)
    debates = sorted(by_debate)
    sizes = np.array([len(by_debate[d]) for d in debates], dtype=float)
    exact = sizes * spec.sample / sizes.sum()
    quota = np.minimum(np.maximum(np.floor(exact), 1 if len(debates) <= spec.sample else 0),
                       sizes).astype(int)
    order = np.argsort(-(exact - np.floor(exact)), kind="stable")
    left = spec.sample - int(quota.sum())
    while left > 0:  # hand out the remainder, largest fractional share first
        for j in order:
            if left and quota[j] < sizes[j]:
                quota[j] += 1
                left -= 1
    while left < 0:  # the minimum of one per debate overshot: trim the largest debates
        j = int(np.argmax(quota))
        quota[j] -= 1
        left += 1
    chosen = []
    for d, q in zip(debates, quota):
        pool = by_debate[d]
        chosen.extend(pool[i] for i in sorted(rng.permutation(len(pool))[:q]))
    return sorted(chosen)


def _vectors(index: CorpusIndex, items: list[tuple[int, ...]]) -> Any:
    import numpy as np

    if all(len(rows) == 1 for rows in items):
        return np.ascontiguousarray(index.embeddings[[rows[0] for rows in items]])
    vectors = np.stack([index.embeddings[list(rows)].mean(axis=0) for rows in items])
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.where(norms == 0, 1, norms)).astype(np.float32)


@functools.cache
def _threads() -> Any:
    """One thread-pool controller per process (building one inspects every loaded library,
    ~0.1 s; ``threadpool_limits`` would do that on every call)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _project(vectors: Any, spec: MapSpec) -> tuple[Any, Any]:
    """2-D coordinates and the fitted model; one BLAS/OpenMP thread (deterministic, and
    idle BLAS workers spinning on a small shared machine cost more than they give).
    openTSNE's default gradient (Barnes-Hut below 10,000 points): its FFT interpolation was
    2.5x slower at 5,000 points here."""
    import numpy as np

    with _threads().limit(limits=1):
        if spec.method == "pca" or len(vectors) < 4:
            from sklearn.decomposition import PCA

            model = PCA(n_components=2, random_state=spec.seed).fit(vectors)
            return model.transform(vectors).astype(np.float32), model
        from openTSNE import TSNE

        perplexity = min(spec.perplexity, (len(vectors) - 1) / 3)  # openTSNE needs 3p < n
        model = TSNE(perplexity=perplexity, metric="cosine", initialization="pca",
                     n_iter=_TSNE_ITER, n_jobs=1, random_state=spec.seed,
                     verbose=False).fit(vectors)
        return np.asarray(model, dtype=np.float32), model


def build_map(index: CorpusIndex, spec: MapSpec, cache_dir: Path | None,
              filters: SearchFilters | None = None) -> CorpusMap:
    """The map for ``spec``, read from ``cache_dir`` when it was built before."""
    import numpy as np

    key = spec.key(index.version, filters)
    stem = f"{index.version[:16]}-{key}"
    if cache_dir is not None and (cache_dir / f"{stem}.npz").exists():
        saved = np.load(cache_dir / f"{stem}.npz")
        rows = [tuple(int(r) for r in rows) for rows in
                np.split(saved["rows"], saved["offsets"][1:-1])]
        return CorpusMap(spec, index.version, rows, saved["coords"], cached=True,
                         model_path=cache_dir / f"{stem}.model.pkl")
    started = time.perf_counter()
    items = sample_items(index, spec, filters)
    if len(items) < 2:
        raise InputError("too few passages to draw a map (need at least 2; loosen the filters)")
    coords, model = _project(_vectors(index, items), spec)
    seconds = time.perf_counter() - started
    result = CorpusMap(spec, index.version, items, coords, seconds, _model=model)
    if cache_dir is not None:
        _save(cache_dir, stem, index.version, result, model)
    return result


def _save(cache_dir: Path, stem: str, version: str, result: CorpusMap, model: Any) -> None:
    import numpy as np

    cache_dir.mkdir(parents=True, exist_ok=True)
    for old in cache_dir.iterdir():  # maps of an older index version are stale
        if not old.name.startswith(version[:16] + "-"):
            old.unlink(missing_ok=True)
    offsets = np.cumsum([0] + [len(rows) for rows in result.rows])
    flat = np.array([r for rows in result.rows for r in rows], dtype=np.int64)
    (cache_dir / f"{stem}.model.pkl").write_bytes(pickle.dumps(model))
    tmp = cache_dir / f"{stem}.tmp.npz"
    np.savez(tmp, coords=result.coords, rows=flat, offsets=offsets)
    tmp.replace(cache_dir / f"{stem}.npz")
    result.model_path = cache_dir / f"{stem}.model.pkl"


def place_query(corpus_map: CorpusMap, index: CorpusIndex, retriever: Any, query: str,
                k: int = 10, mode: str = "hybrid",
                filters: SearchFilters | None = None) -> QueryPlacement:
    """The query placed on the map, and the passages ``hemicycle search`` returns for it.

    Retrieved passages that are points of the map are highlighted where they are; the others
    (outside the sample) are placed like the query.
    """
    import numpy as np

    hits = retriever.search(query, k=k, mode=mode, filters=filters)
    started = time.perf_counter()
    vector = retriever.embedder.encode_query(query)
    embedded = time.perf_counter()
    point_of = corpus_map.point_of(index)
    points = [point_of.get(hit.record.chunk_id, -1) for hit in hits]
    outside = [index.position[hit.record.chunk_id] for hit, p in zip(hits, points) if p < 0]
    new = np.vstack([np.asarray(vector, dtype=np.float32)[None, :],
                     index.embeddings[outside]]) if outside else np.asarray(vector)[None, :]
    placed = corpus_map.place(new)
    seconds = time.perf_counter() - embedded
    extra = iter(placed[1:])
    hit_xy = []
    for p in points:
        xy = corpus_map.coords[p] if p >= 0 else next(extra)
        hit_xy.append((float(xy[0]), float(xy[1])))
    return QueryPlacement(query, (float(placed[0][0]), float(placed[0][1])), hits, hit_xy,
                          points, seconds, embedded - started)


def group_positions(corpus_map: CorpusMap, index: CorpusIndex, key: str = "party",
                    points: list[int] | None = None) -> list[GroupPosition]:
    """Each group's centroid on the map and its spread, over ``points`` (default: all)."""
    import numpy as np

    chosen = range(len(corpus_map)) if points is None else points
    groups: dict[str, list[int]] = {}
    for i in chosen:
        groups.setdefault(color_value(corpus_map.record(index, i), key), []).append(i)
    result = []
    for group, members in sorted(groups.items()):
        xy = corpus_map.coords[members]
        centre = xy.mean(axis=0)
        spread = float(np.sqrt(((xy - centre) ** 2).sum(axis=1).mean()))
        result.append(GroupPosition(group, len(members), float(centre[0]), float(centre[1]),
                                    spread))
    return result
