"""Metrics of a model's answers that need no judge.

- citation validity: share of ``[n]`` markers that point to a given source;
- citation support: share of cited sentences whose best-matching sentence in a cited passage
  has cosine similarity ≥ ``SUPPORT_THRESHOLD`` under the embedder (all-MiniLM-L6-v2);
- quotes verbatim: share of quoted spans (extractive quotes, or "…" / “…” of 4+ words in an LLM
  answer) found word for word in a given source;
- refusal accuracy: unanswerable questions refused, answerable ones answered;
- latency (mean, p50, p95), tokens, words.

``SUPPORT_THRESHOLD`` was calibrated with ``calibrate_support`` on the sample corpus: each
question of ``data/eval/questions.jsonl`` (a paraphrase of what its gold speech says) against
the sentences of its grade-2 speech (supported) and of the same-position speech of a debate
three places away (unsupported); 0.42 maximises accuracy there (0.912 on 57 + 57 pairs;
supported median 0.537, unsupported median 0.269, p95 0.418).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from rag.text import sentences

__all__ = ["SUPPORT_THRESHOLD", "SentenceVectors", "quotes_in", "cited_sentences", "support_share",
           "model_metrics", "calibrate_support"]

SUPPORT_THRESHOLD = 0.42
_QUOTE = re.compile(r"[\"“]([^\"“”]{10,}?)[\"”]")
_MARKER = re.compile(r"\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]")


def _norm(text: str) -> str:
    return " ".join(text.replace("’", "'").split()).lower()


def quotes_in(text: str) -> list[str]:
    return [q.strip() for q in _QUOTE.findall(text) if len(q.split()) >= 4]


def cited_sentences(text: str) -> list[tuple[str, list[int]]]:
    """(sentence without markers, cited numbers) for each sentence carrying ``[n]``."""
    out = []
    for sentence in sentences(text.replace("\n", " ")):
        numbers = [int(n) for group in _MARKER.findall(sentence) for n in group.split(",")]
        if numbers:
            out.append((_MARKER.sub("", sentence).strip(), numbers))
    return out


class SentenceVectors:
    """Embeddings of sentences, each text encoded once per run, in one batch per call."""

    def __init__(self, embedder: Any) -> None:
        self.embedder = embedder
        self.vectors: dict[str, Any] = {}

    def __call__(self, texts: Sequence[str]) -> Any:
        import numpy as np

        missing = list(dict.fromkeys(t for t in texts if t not in self.vectors))
        if missing:
            self.vectors.update(zip(missing, self.embedder.encode(missing)))
        return np.stack([self.vectors[t] for t in texts])


def support_share(vectors: SentenceVectors, text: str, passages: dict[int, str],
                  threshold: float = SUPPORT_THRESHOLD) -> tuple[int, int]:
    """(supported, cited sentences) for one answer."""
    claims = [(s, [n for n in ns if n in passages]) for s, ns in cited_sentences(text)]
    claims = [(s, ns) for s, ns in claims if ns and s]
    if not claims:
        return 0, 0
    candidates = {n: sentences(passages[n]) or [passages[n]] for _, ns in claims for n in ns}
    vectors([s for s, _ in claims] + [c for group in candidates.values() for c in group])
    supported = 0
    for sentence, numbers in claims:
        pool = vectors([c for n in numbers for c in candidates[n]])
        supported += float((pool @ vectors([sentence])[0]).max()) >= threshold
    return supported, len(claims)


def _percentile(values: Sequence[float], q: float) -> float | None:
    import numpy as np

    return round(float(np.percentile(values, q)), 3) if values else None


def model_metrics(outputs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Aggregate of one model's per-question outputs (see ``compare._output``)."""
    answered = [o for o in outputs if not o["refused"] and not o["error"]]
    markers = sum(o["markers"] for o in outputs)
    valid = sum(o["markers_valid"] for o in outputs)
    supported = sum(o["supported"] for o in outputs)
    cited = sum(o["cited_sentences"] for o in outputs)
    quotes = sum(o["quotes"] for o in outputs)
    verbatim = sum(o["quotes_verbatim"] for o in outputs)
    unanswerable = [o for o in outputs if not o["answerable"]]
    answerable = [o for o in outputs if o["answerable"]]
    latencies = [o["latency_s"] for o in outputs if not o["error"]]
    return {
        "questions": len(outputs), "answered": len(answered),
        "errors": sum(1 for o in outputs if o["error"]),
        "citation_validity": round(valid / markers, 4) if markers else None,
        "citation_support": round(supported / cited, 4) if cited else None,
        "support_threshold": SUPPORT_THRESHOLD,
        "quotes_verbatim": round(verbatim / quotes, 4) if quotes else None, "quotes": quotes,
        "refusal_accuracy_unanswerable": round(
            sum(o["refused"] for o in unanswerable) / len(unanswerable), 4)
        if unanswerable else None,
        "answered_share_answerable": round(
            sum(not o["refused"] for o in answerable) / len(answerable), 4)
        if answerable else None,
        "mean_words": round(sum(o["words"] for o in answered) / len(answered), 1)
        if answered else 0.0,
        "latency_mean_s": round(sum(latencies) / len(latencies), 3) if latencies else None,
        "latency_p50_s": _percentile(latencies, 50), "latency_p95_s": _percentile(latencies, 95),
        "prompt_tokens": sum(o["prompt_tokens"] or 0 for o in outputs),
        "completion_tokens": sum(o["completion_tokens"] or 0 for o in outputs),
    }


def calibrate_support(embedder: Any, questions: Sequence[Any],
                      speeches: dict[str, str]) -> dict[str, Any]:
    """Best threshold between question↔gold-speech and question↔unrelated-speech similarity."""
    import numpy as np

    ids = sorted(speeches)
    positives, negatives = [], []
    for q in questions:
        gold = [doc for doc, grade in q.qrels.items() if grade >= 2]
        if not gold or gold[0] not in speeches:
            continue
        debate, position = gold[0].rsplit("-", 1)
        other = f"{debate[:-2]}{(int(debate[-2:]) + 2) % 12 + 1:02d}-{position}"
        other = other if other in speeches else ids[(ids.index(gold[0]) + 40) % len(ids)]
        vector = embedder.encode([q.question])[0]
        for target, bucket in ((gold[0], positives), (other, negatives)):
            bucket.append(float((embedder.encode(sentences(speeches[target])) @ vector).max()))
    best = max((sum(p >= t for p in positives) + sum(n < t for n in negatives), t)
               for t in np.arange(0.2, 0.8, 0.01))
    return {"threshold": round(float(best[1]), 2),
            "accuracy": round(float(best[0]) / (len(positives) + len(negatives)), 4),
            "positives": len(positives), "positive_median": _percentile(positives, 50),
            "negative_median": _percentile(negatives, 50),
            "negative_p95": _percentile(negatives, 95)}
