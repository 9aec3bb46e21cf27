"""The EP verbatim report (CRE) HTML page → one record per speaker block.

A CRE page (``CRE-10-2024-09-16_EN.html``) holds a whole sitting day: agenda items as
``td.doc_title`` headings, and each speech as an anchored table whose paragraphs
(``p.contents``) start with a speaker header ``<span class="doc_subtitle_level1_bis">``:
``Name (Group), role. – text``.  The page is read with lxml, never rendered to markdown,
so navigation, photos, menus and the table layout never reach the text.

Saved pages are often double-encoded (UTF-8 read as Latin-1: ``â€“`` for ``–``); that is
repaired with ftfy before anything else, and a clean page is left as it is.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import InputError
from .formulas import group_from_role, is_chair

__all__ = ["CreBlock", "CrePage", "repair_mojibake", "has_mojibake", "is_cre_html",
           "parse_cre_html", "read_cre_page", "read_html"]

# UTF-8 lead byte read as Latin-1/cp1252, followed by a continuation byte read the same way
_MOJIBAKE = re.compile("[\u00c2-\u00d1\u00e2][\x80-\xbf\u0152\u0153\u0192\u02c6\u02dc"
                       "\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a"
                       "\u20ac\u2122]")
_NUMBERED_TITLE = re.compile(r"^\s*\d+(?:\.\d+)*\.\s+(?P<title>\S.*?)\s*$", re.DOTALL)
_HEADER = re.compile(
    r"^\s*(?P<name>[^(),]+?)\s*(?:\((?P<group>[^)]{1,40})\))?\s*(?:,\s*(?P<role>.+?))?\s*\.?\s*$",
    re.DOTALL)
_STAGE = re.compile(r"^\(.*\)$", re.DOTALL)  # a stage direction paragraph: "(Applause)"
_SPACES = re.compile(r"[ \t\xa0\u2009\u202f]+")
_DATE_META = re.compile(r"^(\d{2})-(\d{2})-(\d{4})$")
_LANGUAGES = {"bg", "es", "cs", "da", "de", "et", "el", "en", "fr", "ga", "hr", "it", "lv",
              "lt", "hu", "mt", "nl", "pl", "pt", "ro", "sk", "sl", "fi", "sv"}


@dataclass(frozen=True)
class CreBlock:
    """One speaker block of the page, in page order."""

    position: int
    debate_title: str
    speaker_name: str
    speaker_party: str
    speaker_role: str
    text: str


@dataclass(frozen=True)
class CrePage:
    date: dt.date
    edition: str  # language edition of the page ("en")
    blocks: tuple[CreBlock, ...]
    agenda_items: int
    skipped_procedural: int  # stage directions: "(The sitting opened at 9:00)", "IN THE CHAIR: ..."


def has_mojibake(text: str) -> bool:
    return bool(_MOJIBAKE.search(text))


def repair_mojibake(text: str) -> str:
    """Repair UTF-8 read as Latin-1/cp1252 (``â€“`` → ``–``); clean text is returned as is."""
    if not has_mojibake(text):
        return text
    import ftfy

    return ftfy.fix_encoding(text)


def is_cre_html(head: str) -> bool:
    """True when the page declares itself a verbatim report (``<meta name="sipade-type"``)."""
    return bool(re.search(r'<meta\s+name="sipade-type"\s+content="CRE"', head[:20_000]))


def _clean(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def _classes(element: Any) -> set[str]:
    return set((element.get("class") or "").split())


def _page_date(doc: Any) -> dt.date | None:
    for meta in doc.iter("meta"):
        if meta.get("name") == "available":
            match = _DATE_META.match(meta.get("content") or "")
            if match:
                return dt.date(int(match[3]), int(match[2]), int(match[1]))
    from .documents import find_date

    title = doc.find(".//title")
    return find_date(title.text_content()) if title is not None else None


def _page_edition(doc: Any) -> str:
    for meta in doc.iter("meta"):
        if meta.get("name") == "language":
            return (meta.get("content") or "").lower()
    return (doc.get("lang") or "").lower()


def _header(paragraph: Any) -> tuple[dict[str, str], str] | None:
    """Speaker fields and the rest of the first paragraph, or None when it has no header."""
    span = next((s for s in paragraph.iter("span")
                 if "doc_subtitle_level1_bis" in _classes(s)), None)
    if span is None:
        return None
    whole = paragraph.text_content()
    name_part = span.text_content()
    start = whole.find(name_part)
    rest = whole[start + len(name_part):]
    dash = re.search(r"[–—]|\s-\s", rest)
    if dash is None:  # header and text without a separator: take the name only
        head, body = "", rest
    else:
        head, body = rest[: dash.start()], rest[dash.end():]
    header = _clean(name_part + " " + head)
    match = _HEADER.match(header)
    if not match:
        return {"speaker_name": header.rstrip(" .,"), "speaker_party": "",
                "speaker_role": ""}, _clean(body)
    name = _clean(match["name"]).rstrip(" .,")
    group = _clean(match["group"] or "")
    role = _clean(match["role"] or "").rstrip(" .")
    if not group and role:
        group = group_from_role(role)
    if is_chair(name) and not role:
        role = "President"
    elif not role and group:
        role = "MEP"
    return {"speaker_name": name, "speaker_party": group, "speaker_role": role}, _clean(body)


def _procedural(paragraphs: list[Any]) -> bool:
    """Stage directions and chair changes, not speech: italic/bold only, bracketed or short."""
    text = _clean(" ".join(p.text_content() for p in paragraphs))
    if not text:
        return True
    if text.startswith("(") and text.endswith(")"):
        return True
    marked = "".join(s.text_content() for p in paragraphs for s in p.iter("span")
                     if _classes(s) & {"italic", "bold"} and s.getparent() is p)
    if len(_clean(marked)) >= 0.9 * len(text):
        return True
    return len(text.split()) < 8


def parse_cre_html(html: str, source: str = "page") -> CrePage:
    """Parse one CRE page (the text may be double-encoded); raise ``InputError`` if unusable."""
    import lxml.html

    html = repair_mojibake(html)
    if not is_cre_html(html):
        raise InputError(f"{source}: this HTML page is not an EP verbatim report (no CRE "
                         "marker); expected a page saved from "
                         "europarl.europa.eu/doceo/document/CRE-…_EN.html")
    if "</html>" not in html[-2000:].lower() or "footerdocwin" not in html:
        raise InputError(f"{source}: the verbatim report page is truncated (no end of page "
                         "found); save the whole page again")
    doc = lxml.html.fromstring(html)
    edition = _page_edition(doc)
    if edition and edition != "en":
        raise InputError(f"{source}: this is the {edition.upper()} edition of the verbatim "
                         "report; expected the English edition (…_EN.html)")
    date = _page_date(doc)
    if date is None:
        raise InputError(f"{source}: no sitting date found in the verbatim report")
    title = ""
    items = 0
    raw_blocks: list[tuple[str, list[Any]]] = []
    for element in doc.iter("td", "a", "p"):
        if element.tag == "td" and "doc_title" in _classes(element):
            match = _NUMBERED_TITLE.match(_clean(element.text_content()))
            if match:
                title, items = match["title"], items + 1
        elif element.tag == "a" and (element.get("name") or "").isdigit() and title:
            raw_blocks.append((title, []))
        elif element.tag == "p" and "contents" in _classes(element) and raw_blocks:
            raw_blocks[-1][1].append(element)
    blocks: list[CreBlock] = []
    skipped = 0
    for debate_title, paragraphs in raw_blocks:
        if not paragraphs:
            continue
        parsed = _header(paragraphs[0])
        if parsed is None:
            if _procedural(paragraphs):
                skipped += 1
                continue
            fields = {"speaker_name": "unknown", "speaker_party": "", "speaker_role": ""}
            texts = [_clean(p.text_content()) for p in paragraphs]
        else:
            fields, first = parsed
            texts = [first] + [_clean(p.text_content()) for p in paragraphs[1:]]
        text = "\n\n".join(t for t in texts if t and not _STAGE.match(t))
        if text:
            blocks.append(CreBlock(len(blocks) + 1, debate_title, text=text, **fields))
    if not blocks:
        raise InputError(f"{source}: no speeches found in the verbatim report")
    return CrePage(date, edition or "en", tuple(blocks), items, skipped)


def read_html(path: Path) -> str:
    """A saved page's text: UTF-8, or cp1252 for a page a browser saved in Windows encoding."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return path.read_bytes().decode("cp1252", errors="replace")


def read_cre_page(path: Path) -> CrePage:
    return parse_cre_html(read_html(path), str(path))
