"""Stance agreement of an extractor with hand labels (``data/eval/stance-labels.jsonl``).

Each line: ``{"speech_id": ..., "stance": for|against|mixed|neutral|procedural}``, labelled
by reading the sample speech (the chair's closing lines are ``procedural``; blue-card
questions and speeches whose position on the debate's subject is unclear were left out).
Accuracy is the share of labelled speeches whose stored stance equals the label; a speech
that was not enriched counts as wrong.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

__all__ = ["load_labels", "stance_agreement"]


def load_labels(path: Path) -> dict[str, str]:
    return {row["speech_id"]: row["stance"] for row in
            (json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
             if line.strip())}


def stance_agreement(labels: dict[str, str], predicted: dict[str, str]) -> dict[str, Any]:
    """Accuracy, per-label recall and the confusion counts (label → predicted)."""
    confusion: Counter[tuple[str, str]] = Counter(
        (gold, predicted.get(sid, "(none)")) for sid, gold in labels.items())
    per_label = {}
    for gold in sorted({g for g, _ in confusion}):
        total = sum(n for (g, _), n in confusion.items() if g == gold)
        per_label[gold] = {"n": total, "recall": round(confusion[(gold, gold)] / total, 3)}
    correct = sum(n for (g, p), n in confusion.items() if g == p)
    return {"speeches": len(labels), "accuracy": round(correct / len(labels), 3) if labels
            else 0.0, "per_label": per_label,
            "confusion": {f"{g}->{p}": n for (g, p), n in sorted(confusion.items())}}
