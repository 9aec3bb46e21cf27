"""A DOCX edition of a CRE page, made from its HTML, to measure the document (markdown) parser.

The EP publishes the verbatim report as HTML and PDF/DOCX; this converter writes what the
DOCX edition holds, from the page itself: the sitting date, each agenda item as a numbered
heading (``3. Statements by the President``), and every paragraph of the page's text as one
paragraph, speaker headers included as printed (``Name (Group), role. – text``), stage
directions and chair changes included (in italics, as the CRE prints them).  The DOCX is
then read back through markitdown and the text speaker-heading parser (``ingest.documents``),
so the figures are those of that path.
"""

from __future__ import annotations

import re
from pathlib import Path

from ingest.cre import parse_cre_html, read_html, repair_mojibake

__all__ = ["cre_to_docx"]

_SPACES = re.compile(r"[ \t\xa0]+")


def cre_to_docx(page: Path, target: Path) -> int:
    """Write ``target`` from one CRE page; return the number of agenda items written."""
    import docx
    import lxml.html

    html = repair_mojibake(read_html(page))
    date = parse_cre_html(html, str(page)).date  # validates the page as a CRE
    doc = lxml.html.fromstring(html)
    document = docx.Document()
    document.add_paragraph(f"{date.day} {date.strftime('%B')} {date.year}")
    items = 0
    started = False
    for element in doc.iter("td", "p"):
        classes = set((element.get("class") or "").split())
        text = _SPACES.sub(" ", element.text_content()).strip()
        if element.tag == "td" and "doc_title" in classes and re.match(r"\d+(\.\d+)*\. ", text):
            document.add_heading(text, level=2)
            items += 1
            started = True
        elif element.tag == "p" and "contents" in classes and started and text:
            marked = "".join(s.text_content() for s in element.iter("span")
                             if {"italic", "bold"} & set((s.get("class") or "").split())
                             and s.getparent() is element)
            paragraph = document.add_paragraph()
            run = paragraph.add_run(re.sub(r"\s+\.\s+([–—])", r". \1", text))
            # stage directions, chair changes, "– Before the vote:" are printed in italics
            run.italic = len(_SPACES.sub(" ", marked).strip()) >= len(text)
    document.save(str(target))
    return items
