"""``hemicycle eval retrieval --embedder A --embedder B``: embedders side by side on a gold set.

Each embedder gets its own collection of the gold set's corpus (``eval-<spec>``, ingested
once; a re-run embeds nothing), and the suite of ``eval/retrieval.py`` runs on it in the
dense and hybrid modes.  The table shows each metric and its difference to the first
embedder.  Gold files in the ``gold_ids`` layout (a list of speech ids, no grades) are read
too; questions without gold ids (unanswerable ones) are left out.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ingest.embedders import make_embedder
from ingest.errors import InputError
from ingest.pipeline import ingest_paths
from ingest.reembed import default_target
from ingest.settings import Settings
from rag.index import CorpusIndex
from rag.retriever import Retriever

from .retrieval import GoldQuestion, run_retrieval_eval

__all__ = ["load_questions", "gold_subset", "compare_embedders", "format_comparison", "METRICS"]

METRICS = ("recall@5", "mrr@10", "ndcg@10")


def load_questions(path: Path) -> list[GoldQuestion]:
    """Gold questions with ``relevant`` grades or a ``gold_ids`` list (grade 2 each)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputError(f"{path}: {exc.strerror}") from None
    questions = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            if "relevant" not in data:
                data["relevant"] = {sid: 2 for sid in data.get("gold_ids") or []}
            if data["relevant"]:
                questions.append(GoldQuestion.model_validate(
                    {k: v for k, v in data.items() if k in GoldQuestion.model_fields}))
        except (ValueError, ValidationError) as exc:
            raise InputError(f"{path}:{number}: not a gold question ({exc})") from None
    if not questions:
        raise InputError(f"{path}: no answerable gold questions")
    return questions


def gold_subset(questions: list[GoldQuestion], source: Path, target: Path,
                distractors: int, seed: int = 11) -> Path:
    """A smaller corpus for a gold set over a big one: the gold speeches, every speech of
    their debates (the hardest distractors), and ``distractors`` other speeches (seeded)."""
    import random

    gold = {sid for q in questions for sid in q.relevant}
    records = [json.loads(line) for line in source.read_text(encoding="utf-8").splitlines()
               if line.strip()]
    debates = {(r.get("date"), r.get("debate_title")) for r in records if r.get("id") in gold}
    missing = gold - {r.get("id") for r in records}
    if missing:
        raise InputError(f"{source}: {len(missing)} gold speeches are not in it "
                         f"(e.g. {sorted(missing)[0]})")
    keep = [r for r in records if (r.get("date"), r.get("debate_title")) in debates]
    others = [r for r in records if (r.get("date"), r.get("debate_title")) not in debates]
    keep += random.Random(seed).sample(others, min(distractors, len(others)))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in keep),
                      encoding="utf-8")
    return target


def compare_embedders(settings: Settings, client: Any, specs: Sequence[str], gold: Path,
                      corpus: Sequence[Path], k: int = 10,
                      modes: tuple[str, ...] = ("dense", "hybrid"),
                      prefix: str = "eval", distractors: int | None = None) -> dict[str, Any]:
    questions = load_questions(gold)
    if distractors is not None:  # one big records file → the gold subset of it
        if len(corpus) != 1 or not corpus[0].is_file():
            raise InputError("--distractors needs one records file as --corpus")
        corpus = [gold_subset(questions, corpus[0], settings.cache_dir / "eval-subsets" /
                              f"{gold.stem}-{distractors}.jsonl", distractors)]
        prefix = f"{prefix}-{gold.stem}-{distractors}"
    results: dict[str, Any] = {"gold": str(gold), "questions": len(questions),
                               "corpus": [str(p) for p in corpus], "embedders": {}}
    for spec in specs:
        embedder = make_embedder(spec, settings)
        name = default_target(prefix, embedder.spec)
        report = ingest_paths(settings, list(corpus), embedder, client, name)
        retriever = Retriever(CorpusIndex.load(settings, client, name), embedder)
        started = time.perf_counter()
        scores = run_retrieval_eval(retriever, questions, k=k, modes=modes)
        results["embedders"][embedder.spec] = {
            "collection": name, "chunks_embedded_now": report.chunks_new,
            "eval_seconds": round(time.perf_counter() - started, 2),
            "modes": {mode: scores["modes"][mode]["overall"] for mode in modes},
        }
    return results


def format_comparison(results: dict[str, Any]) -> str:
    embedders = results["embedders"]
    first = next(iter(embedders.values()))
    lines = [f"{'embedder':28s} {'mode':7s} " + " ".join(f"{m:>16s}" for m in METRICS)]
    for spec, data in embedders.items():
        for mode, scores in data["modes"].items():
            cells = []
            for metric in METRICS:
                delta = scores[metric] - first["modes"][mode][metric]
                cells.append(f"{scores[metric]:7.3f} ({delta:+.3f})")
            lines.append(f"{spec[:28]:28s} {mode:7s} " + " ".join(f"{c:>16s}" for c in cells))
    return "\n".join(lines)
