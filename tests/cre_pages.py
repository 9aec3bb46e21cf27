"""Small CRE pages written for the tests, in the real page's structure (see ingest/cre.py).

A block is ``(header, group, role, paragraphs)``; ``header=None`` writes a block without a
speaker header (a stage direction or an unattributable paragraph).
"""

from __future__ import annotations

from html import escape

Block = tuple[str | None, str, str, list[str]]

_HEAD = ('<!DOCTYPE html><html xmlns="http://www.w3.org/1999/xhtml" lang="{lang}"><head>'
         '<meta http-equiv="Content-Type" content="text/html; charset=UTF-8" />'
         '<title>Verbatim report of proceedings - {long_date}</title>'
         '<meta name="language" content="{lang}" /><meta name="available" content="{dmy}" />'
         '<meta name="sipade-type" content="CRE" /></head><body>'
         '<ul class="language_select"><li><a class="de on" href="#">de - Deutsch</a></li></ul>'
         '<table><tr><td class="doc_title">{long_date} - Strasbourg</td></tr></table>')
_FOOT = ('<table class="footerdocwin"><tr><td>© European Union, 2025 - Source: European '
         'Parliament</td></tr></table></body></html>')


def _block(anchor: int, block: Block) -> str:
    header, group, role, paragraphs = block
    photo = ('<table class="photoframe_blue"><tr><td><img alt="MPphoto" src="/mepphoto/1.jpg" />'
             '</td></tr></table>')
    parts = []
    for i, text in enumerate(paragraphs):
        if i == 0 and header is not None:
            head = f'<span class="doc_subtitle_level1_bis"><span class="bold">{escape(header)}'
            if role:
                head += (f" ({escape(group)})" if group else "") + \
                    f', </span></span> <span class="italic">{escape(role)}</span>' \
                    '<span class="bold">.</span>'
            else:
                head += (f" ({escape(group)})" if group else "") + ".</span></span>"
            parts.append(f'<p class="contents"><img src="/arrow.gif" />\xa0\xa0{head} – '
                         f"{escape(text)}</p>")
        elif text.startswith("("):
            parts.append(f'<p class="contents"><span class="italic">{escape(text)}</span></p>')
        else:
            parts.append(f'<p class="contents">{escape(text)}</p>')
    return (f'<a name="{anchor}"></a><table><tr><td>{photo if header else ""}</td><td>\xa0</td>'
            f'<td align="left">{"".join(parts)}</td></tr></table>')


def cre_page(items: list[tuple[str, list[Block]]], date: str = "2025-03-12",
             lang: str = "en") -> str:
    """A whole CRE page: one numbered ``doc_title`` heading per agenda item."""
    year, month, day = date.split("-")
    long_date = f"Wednesday, {int(day)} March {year}"
    html = [_HEAD.format(lang=lang, long_date=long_date, dmy=f"{day}-{month}-{year}")]
    anchor = 2017001140000
    for number, (title, blocks) in enumerate(items, start=1):
        html.append(f'<table class="doc_box_header"><tr><td class="doc_title">'
                    f'<img src="/arrow_title_doc.gif" /> {number}. {escape(title)}</td>'
                    f'<td><a href="#top">top</a></td></tr></table>')
        for block in blocks:
            anchor += 1
            html.append(_block(anchor, block))
    html.append(_FOOT)
    return "".join(html)


def double_encoded(text: str) -> str:
    """UTF-8 bytes read as Latin-1: what a saved EP page looks like (``–`` → ``â\\x80\\x93``)."""
    return text.encode("utf-8").decode("latin-1")
