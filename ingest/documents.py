"""Verbatim-report documents (PDF, DOCX, HTML, TXT, MD) → EU Debates-style records.

Documents are converted to markdown with markitdown, then split into speeches at the
speaker headings of the EP verbatim report: ``Name (Group). – text``,
``Name, on behalf of the X Group. – text``, ``Name, Member of the Commission. – text``,
``President. – text``.  Text that cannot be attributed is kept with speaker "unknown".
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .errors import InputError
from .schema import content_hash

__all__ = ["DOCUMENT_SUFFIXES", "convert_to_markdown", "split_speeches", "document_records"]

DOCUMENT_SUFFIXES = {".pdf", ".docx", ".html", ".htm", ".txt", ".md"}

_SPEAKER = re.compile(
    r"^[ \t]*(?:\*\*)?"
    r"(?P<name>[A-ZÀ-ÖØ-Þ][^\s,().:–—*]*(?:[ \t]+[^\s,().:–—*]+){0,5})"
    r"(?:[ \t]*\((?P<group>[^)\n]{1,40})\))?"
    r"(?:,[ \t]*(?P<role>[^.\n–—]{3,120}))?"
    r"\.(?:\*\*)?[ \t]*(?:\*\*)?[–—-][ \t]+",
    re.MULTILINE,
)
_ON_BEHALF = re.compile(r"on behalf of the (?P<group>.+?) Group", re.IGNORECASE)
_HEADING = re.compile(r"^#{1,4}[ \t]+(?P<title>.+?)[ \t#]*$", re.MULTILINE)
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_LONG_DATE = re.compile(
    r"\b(\d{1,2})\s+(January|February|March|April|May|June|July|August|September|October|"
    r"November|December)\s+(\d{4})\b"
)
_MONTHS = {m: i for i, m in enumerate(
    ["January", "February", "March", "April", "May", "June", "July", "August", "September",
     "October", "November", "December"], start=1)}
_CHAIR = {"president", "vice-president", "chair"}


def convert_to_markdown(path: Path) -> str:
    """Convert one document with markitdown; plain text and markdown are read as they are."""
    if path.suffix.lower() in (".txt", ".md"):
        try:
            return path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise InputError(f"{path}: not UTF-8 text") from None
    from markitdown import MarkItDown

    try:
        return MarkItDown(enable_plugins=False).convert(str(path)).text_content
    except Exception as exc:  # markitdown wraps converter errors in several types
        raise InputError(f"{path}: cannot convert document ({type(exc).__name__}: {exc})") from None


def find_date(text: str) -> dt.date | None:
    iso = _ISO_DATE.search(text)
    long = _LONG_DATE.search(text)
    candidates = []
    if iso:
        candidates.append((iso.start(), dt.date(int(iso[1]), int(iso[2]), int(iso[3]))))
    if long:
        candidates.append((long.start(), dt.date(int(long[3]), _MONTHS[long[2]], int(long[1]))))
    return min(candidates)[1] if candidates else None


def _speaker_fields(match: re.Match[str]) -> dict[str, str]:
    name = match["name"].strip()
    group = (match["group"] or "").strip()
    role = (match["role"] or "").strip()
    behalf = _ON_BEHALF.search(role)
    if behalf:
        group, role = behalf["group"].strip(), "MEP"
    elif name.lower() in _CHAIR:
        role = name
    elif group and not role:
        role = "MEP"
    return {"speaker_name": name, "speaker_party": group, "speaker_role": role}


def split_speeches(markdown: str) -> Iterator[dict[str, str]]:
    """Yield ``{debate_title, speaker_name, speaker_party, speaker_role, text}`` per speech."""
    headings = list(_HEADING.finditer(markdown))
    sections: list[tuple[str, str]] = []
    if not headings:
        first_line = next((ln.strip() for ln in markdown.splitlines() if ln.strip()), "")
        sections.append((first_line[:200] or "Untitled debate", markdown))
    else:
        preface = markdown[: headings[0].start()]
        for i, heading in enumerate(headings):
            end = headings[i + 1].start() if i + 1 < len(headings) else len(markdown)
            body = markdown[heading.end(): end]
            if i == 0:
                body = preface + body
            sections.append((heading["title"].strip(" *"), body))
    for title, body in sections:
        matches = list(_SPEAKER.finditer(body))
        lead = body[: matches[0].start()] if matches else body
        if lead.strip() and (matches or _substantial(lead)):
            yield {"debate_title": title, "speaker_name": "unknown", "speaker_party": "",
                   "speaker_role": "", "text": _clean(lead)}
        for i, match in enumerate(matches):
            end = matches[i + 1].start() if i + 1 < len(matches) else len(body)
            text = _clean(body[match.end(): end])
            if text:
                yield {"debate_title": title, **_speaker_fields(match), "text": text}


def _substantial(text: str) -> bool:
    return len(text.split()) >= 5


def _clean(text: str) -> str:
    paragraphs = [re.sub(r"[ \t]+", " ", p).strip() for p in re.split(r"\n\s*\n", text)]
    return "\n\n".join(p for p in paragraphs if p)


def document_records(path: Path, default_date: dt.date | None = None) -> Iterator[dict[str, Any]]:
    """Records (EU Debates layout) for one verbatim-report document."""
    markdown = convert_to_markdown(path)
    date = find_date(markdown) or default_date
    if date is None:
        raise InputError(f"{path}: no sitting date found in the document (pass --date YYYY-MM-DD)")
    seen: Counter[str] = Counter()
    for record in split_speeches(markdown):
        key = content_hash("|".join(record.values()), 6)
        seen[key] += 1
        yield {**record, "date": date.isoformat(), "intervention_language": "en",
               "id": f"doc-{content_hash(path.name, 4)}-{key}-{seen[key]}"}
