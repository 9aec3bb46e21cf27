"""Verbatim-report documents (PDF, DOCX, HTML, TXT, MD) → EU Debates-style records.

A CRE HTML page saved from the EP site is read block by block from its DOM (see ``cre``).
Other documents are converted to markdown with markitdown, then split into speeches at the
speaker headings of the EP verbatim report: ``Name (Group). – text``,
``Name, on behalf of the X Group. – text`` (and the same formulas in every EU language, see
``formulas``), ``Name, Member of the Commission. – text``, ``President. – text``.
Text that cannot be attributed is kept with speaker "unknown".  Each speech's language is
detected (``language``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .cre import is_cre_html, parse_cre_html, read_html, repair_mojibake
from .errors import InputError
from .formulas import group_from_role, is_chair
from .language import detect_language
from .schema import content_hash

__all__ = ["DOCUMENT_SUFFIXES", "convert_to_markdown", "split_speeches", "document_records"]

DOCUMENT_SUFFIXES = {".pdf", ".docx", ".html", ".htm", ".txt", ".md"}

_SPEAKER = re.compile(
    r"^[ \t]*(?:\*\*)?"
    r"(?P<name>[^\W\d_][^\s,().:–—*]*(?:[ \t]+[^\s,().:–—*]+){0,5})"
    r"(?:[ \t]*\((?P<group>[^)\n]{1,40})\))?"
    r"(?:,[ \t]*(?P<role>[^.\n–—]{3,120}))?"
    r"\.(?:\*\*)?[ \t]*(?:\*\*)?[–—-][ \t]+",
    re.MULTILINE,
)
_NUMBER = re.compile(r"^\d+(?:\.\d+)*\.\s+")  # "3. " / "6.1. " before an agenda item
# a stage direction paragraph: "(Applause)", or one printed wholly in italics ("*Catch-the-eye*")
_STAGE = re.compile(r"^(?:\(.*\)|\*[^*].*\*|_[^_].*_)$", re.DOTALL)
_HEADING = re.compile(r"^#{1,4}[ \t]+(?P<title>.+?)[ \t#]*$", re.MULTILINE)
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_LONG_DATE = re.compile(
    r"\b(\d{1,2})\s+(January|February|March|April|May|June|July|August|September|October|"
    r"November|December)\s+(\d{4})\b"
)
_MONTHS = {m: i for i, m in enumerate(
    ["January", "February", "March", "April", "May", "June", "July", "August", "September",
     "October", "November", "December"], start=1)}


def convert_to_markdown(path: Path) -> str:
    """Convert one document with markitdown; plain text and markdown are read as they are."""
    if path.stat().st_size == 0:
        raise InputError(f"{path}: the file is empty")
    if path.suffix.lower() in (".txt", ".md"):
        try:
            return repair_mojibake(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError:
            raise InputError(f"{path}: not UTF-8 text") from None
    from markitdown import MarkItDown

    try:
        text = MarkItDown(enable_plugins=False).convert(str(path)).text_content
    except Exception as exc:  # markitdown wraps converter errors in several types
        raise InputError(f"{path}: cannot convert document ({type(exc).__name__}: {exc})") from None
    if not text.strip():
        kind = "scanned PDF without a text layer (run OCR first)" if \
            path.suffix.lower() == ".pdf" else "document"
        raise InputError(f"{path}: no text found; expected a verbatim report with text, "
                         f"found an empty {kind}")
    return repair_mojibake(text)


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
    if not group and role:
        group = group_from_role(role)
    if is_chair(name) and not role:
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
            sections.append((_NUMBER.sub("", heading["title"].strip(" *")), body))
    for title, body in sections:
        matches = [m for m in _SPEAKER.finditer(body) if m["name"][0].isupper()]
        lead = _clean(body[: matches[0].start()] if matches else body)
        if lead and (matches or _substantial(lead)) and not _dateline(lead):
            yield {"debate_title": title, "speaker_name": "unknown", "speaker_party": "",
                   "speaker_role": "", "text": lead}
        for i, match in enumerate(matches):
            end = matches[i + 1].start() if i + 1 < len(matches) else len(body)
            text = _clean(body[match.end(): end])
            if text:
                yield {"debate_title": title, **_speaker_fields(match), "text": text}


def _dateline(text: str) -> bool:
    """A report's date line ("Thursday, 22 May 2025 - Strasbourg"), not a speech."""
    return len(text.split()) <= 6 and find_date(text) is not None


def _substantial(text: str) -> bool:
    return len(text.split()) >= 5


def _clean(text: str) -> str:
    paragraphs = [re.sub(r"[ \t]+", " ", p).strip() for p in re.split(r"\n\s*\n", text)]
    return "\n\n".join(p for p in paragraphs if p and not _STAGE.match(p))


def _cre_records(path: Path, html: str) -> Iterator[dict[str, Any]]:
    page = parse_cre_html(html, str(path))
    date = page.date.isoformat()
    for block in page.blocks:
        key = content_hash(f"{block.speaker_name}|{block.text}", 4)
        yield {"debate_title": block.debate_title, "speaker_name": block.speaker_name,
               "speaker_party": block.speaker_party, "speaker_role": block.speaker_role,
               "text": block.text, "date": date,
               "intervention_language": detect_language(block.text),
               "id": f"cre-{date}-{block.position:04d}-{key}",
               "source": str(path), "position": block.position}


def document_records(path: Path, default_date: dt.date | None = None) -> Iterator[dict[str, Any]]:
    """Records (EU Debates layout) for one verbatim-report document."""
    if path.suffix.lower() in (".html", ".htm") and path.stat().st_size:
        html = read_html(path)
        if is_cre_html(html):
            yield from _cre_records(path, html)
            return
    markdown = convert_to_markdown(path)
    records = list(split_speeches(markdown))
    if not any(r["speaker_name"] != "unknown" for r in records):
        raise InputError(f"{path}: no speaker headings found (expected a verbatim report with "
                         "lines such as 'Name (Group). – text')")
    date = find_date(markdown) or default_date
    if date is None:
        raise InputError(f"{path}: no sitting date found in the document (pass --date YYYY-MM-DD)")
    seen: Counter[str] = Counter()
    for position, record in enumerate(records, start=1):
        key = content_hash("|".join(record.values()), 6)
        seen[key] += 1
        yield {**record, "date": date.isoformat(),
               "intervention_language": detect_language(record["text"]),
               "id": f"doc-{content_hash(path.name, 4)}-{key}-{seen[key]}",
               "source": str(path), "position": position}
