"""Verbatim-report documents: converted with markitdown and split at speaker headings."""

from __future__ import annotations

import pytest

from ingest.documents import document_records, split_speeches
from ingest.pipeline import ingest_paths
from ingest.store import open_client, open_collection

REPORT_LINES = [
    "Wednesday, 10 March 2021",
    "5. EU-Mercosur trade agreement (debate)",
    "President. – The next item is the debate on the EU-Mercosur agreement.",
    "Anna Kowalska (PPE). – Madam President, the deal opens markets for 700 million people.",
    "Jan Dupont, on behalf of the Verts/ALE Group. – This deal will burn the Amazon; "
    "we reject the 99,000-tonne beef quota.",
    "Valdis Ozols, Member of the Commission. – We will add a binding sustainability protocol.",
]


def _html(path):
    body = "".join(f"<h2>{line}</h2>" if i == 1 else f"<p>{line}</p>"
                   for i, line in enumerate(REPORT_LINES))
    path.write_text(f"<html><body>{body}</body></html>", encoding="utf-8")


def _docx(path):
    import docx

    document = docx.Document()
    for i, line in enumerate(REPORT_LINES):
        if i == 1:
            document.add_heading(line, level=2)
        else:
            document.add_paragraph(line)
    document.save(path)


def _pdf(path, lines=tuple(REPORT_LINES)):
    """A minimal one-page PDF written by hand (Helvetica, one text line per paragraph);
    with no lines, a page without a text layer (a scan that never went through OCR)."""
    lines = [line.replace("–", "-") for line in lines]
    ops = ["BT", "/F1 9 Tf", "40 800 Td", "14 TL"]
    for line in lines:
        escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        ops += [f"({escaped}) Tj", "T*", "T*"]
    ops.append("ET")
    stream = "\n".join(ops).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"\
        .encode()
    path.write_bytes(bytes(out))


def _txt(path):
    path.write_text("\n\n".join(REPORT_LINES), encoding="utf-8")


@pytest.mark.parametrize("suffix, writer", [(".html", _html), (".docx", _docx),
                                            (".pdf", _pdf), (".txt", _txt)])
def test_documents_are_split_into_attributed_speeches(tmp_path, suffix, writer):
    path = tmp_path / f"cre-2021-03-10{suffix}"
    writer(path)
    records = list(document_records(path))
    speakers = [(r["speaker_name"], r["speaker_party"], r["speaker_role"]) for r in records
                if r["speaker_name"] != "unknown"]
    assert speakers == [
        ("President", "", "President"),
        ("Anna Kowalska", "PPE", "MEP"),
        ("Jan Dupont", "Verts/ALE", "on behalf of the Verts/ALE Group"),
        ("Valdis Ozols", "", "Member of the Commission"),
    ]
    assert all(r["date"] == "2021-03-10" for r in records)
    dupont = next(r for r in records if r["speaker_name"] == "Jan Dupont")
    assert "99,000-tonne beef quota" in dupont["text"]
    assert len({r["id"] for r in records}) == len(records)


def test_unattributed_text_is_kept_as_unknown():
    markdown = ("# Sitting of 4 May 2022\n\nThe sitting opened at 9:00 with a minute of "
                "silence for the victims.\n\nMaria Rossi (S&D). – Rents rose by 18 percent.")
    speeches = list(split_speeches(markdown))
    assert speeches[0]["speaker_name"] == "unknown"
    assert "minute of silence" in speeches[0]["text"]
    assert speeches[1]["speaker_name"] == "Maria Rossi" and speeches[1]["speaker_party"] == "S&D"


def test_document_without_a_date_needs_one(tmp_path):
    from ingest.errors import InputError

    path = tmp_path / "undated.txt"
    path.write_text("Anna Kowalska (PPE). – Hello colleagues, the deal is good.",
                    encoding="utf-8")
    with pytest.raises(InputError, match="--date"):
        list(document_records(path))


def test_documents_go_through_the_whole_pipeline(settings, embedder, tmp_path):
    folder = tmp_path / "reports"
    folder.mkdir()
    _html(folder / "a.html")
    _docx(folder / "b.docx")
    report = ingest_paths(settings, [folder], embedder, open_client(settings))
    # both files describe the same debate: identical speeches get the same debate id
    assert report.speeches["new"] >= 8 and sum(report.rejected.values()) == 0
    metas = open_collection(open_client(settings), settings.collection).get(
        include=["metadatas"])["metadatas"]
    assert {m["party"] for m in metas} >= {"EPP", "Greens/EFA"}
    assert {m["date"] for m in metas} == {"2021-03-10"}


def test_a_broken_document_is_rejected_and_the_others_land(settings, embedder, tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    _txt(folder / "good.txt")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    (folder / "undated.txt").write_text("Anna Kowalska (PPE). – No date anywhere here.",
                                        encoding="utf-8")
    report = ingest_paths(settings, [folder], embedder, open_client(settings))
    assert report.speeches["new"] == 5  # four speakers and the unattributed preamble
    assert report.rejected["unreadable_file"] == 2
    rejects = settings.rejects_path().read_text("utf-8")
    assert "broken.pdf" in rejects and "--date" in rejects
