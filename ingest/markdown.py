"""One markdown file per debate; citations point into it by character span."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .schema import Speech

__all__ = ["RenderedDebate", "render_debate", "write_atomic"]


@dataclass(frozen=True)
class RenderedDebate:
    debate_id: str
    markdown: str
    spans: dict[str, tuple[int, int]]  # speech_id -> (start, end) of its text in ``markdown``


def _heading(speech: Speech) -> str:
    who = speech.speaker + (f" ({speech.party})" if speech.party else "")
    role = f" — {speech.role}" if speech.role and speech.role not in ("MEP", speech.speaker) else ""
    return f"## {who}{role}\n"


def render_debate(speeches: Sequence[Speech]) -> RenderedDebate:
    """Title, date, then a section per speech (speaker, group, role) in speaking order."""
    first = speeches[0]
    parts = [f"# {first.debate_title}\n\n", f"- Date: {first.date}\n",
             f"- Debate: `{first.debate_id}`\n", f"- Speeches: {len(speeches)}\n\n"]
    offset = sum(len(p) for p in parts)
    spans: dict[str, tuple[int, int]] = {}
    for speech in speeches:
        head = _heading(speech) + f"<!-- speech_id: {speech.speech_id} -->\n\n"
        parts.append(head)
        offset += len(head)
        spans[speech.speech_id] = (offset, offset + len(speech.text))
        parts.append(speech.text + "\n\n")
        offset += len(speech.text) + 2
    return RenderedDebate(first.debate_id, "".join(parts), spans)


def write_atomic(path: Path, text: str) -> None:
    """Write via a temporary file and rename, so a killed run never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)
    os.replace(tmp, path)
