"""CRE verbatim-report pages: parsed into attributed speeches, in every language."""

from __future__ import annotations

import pytest

from cre_pages import cre_page, double_encoded
from ingest.cre import has_mojibake, parse_cre_html
from ingest.documents import document_records
from ingest.errors import InputError
from ingest.formulas import group_from_role, is_chair, role_kind

from conftest import ROOT

CRE_HTML = ROOT.parent / "shared" / "corpora" / "cre-html"
RECORDS = ROOT.parent / "shared" / "corpora" / "ep-cre-10-dev.jsonl"

# group formulas as the CRE prints them (taken from the real pages), one per language
FORMULAS = [
    ("on behalf of the Verts/ALE Group", "Verts/ALE"), ("on behalf of The Left Group", "The Left"),
    ("au nom du groupe PfE", "PfE"), ("im Namen der S&D-Fraktion", "S&D"),
    ("im Namen der Fraktion The Left", "The Left"), ("a nome del gruppo ECR", "ECR"),
    ("en nombre del Grupo PPE", "PPE"), ("em nome do Grupo S&D", "S&D"),
    ("w imieniu grupy ESN", "ESN"), ("εξ ονόματος της ομάδας ECR", "ECR"),
    ("za skupinu Renew", "Renew"), ("Renew-ryhmän puolesta", "Renew"),
    ("för Verts/ALE gruppen", "Verts/ALE"), ("for Renew-Gruppen", "Renew"),
    ("namens de PfE-Fractie", "PfE"), ("от името на групата ESN", "ESN"),
    ("ESN frakcijos vardu", "ESN"), ("a PfE képviselőcsoport nevében", "PfE"),
    ("v imenu skupine S&D", "S&D"), ("u ime kluba PPE", "PPE"),
    ("în numele grupului ECR", "ECR"), ("PPE grupas vārdā", "PPE"),
    ("f'isem il-grupp S&D", "S&D"),
]


@pytest.mark.parametrize("formula, group", FORMULAS)
def test_group_formula_in_each_language(formula, group):
    assert group_from_role(formula) == group
    assert role_kind(formula) == "on behalf of a group"


def test_roles_and_chair_in_other_languages():
    assert group_from_role("Member of the Commission") == ""
    assert role_kind("pytanie zadane przez podniesienie niebieskiej kartki") == \
        "blue-card question"
    assert role_kind("Antwort auf eine Frage nach dem Verfahren der „blauen Karte“") == \
        "blue-card answer"
    assert role_kind("por escrito") == "in writing" and role_kind("na piśmie") == "in writing"
    assert role_kind("President-in-Office of the Council") == "Council"
    assert role_kind("relatore") == "rapporteur"
    assert is_chair("Die Präsidentin") and is_chair("Priekšsēdētājs") and is_chair("Presidente")
    assert not is_chair("Anna Kowalska")


DAY = [
    ("Frozen Russian assets (debate)", [
        (None, "", "", ["(The sitting opened at 9:00)"]),
        ("President", "", "", ["The next item is the debate on frozen Russian assets."]),
        ("Valdis Ozols", "", "Member of the Commission",
         ["Mr President, the Commission proposes to use the windfall profits.", "(Applause)",
          "We will table the act in June."]),
        ("Claire Fita", "", "au nom du groupe S&D",
         ["Monsieur le Président, les avoirs gelés doivent servir à l'Ukraine."]),
        ("Angelika Niebler", "PPE", "",
         ["Frau Präsidentin, wir müssen die eingefrorenen Vermögenswerte nutzen."]),
        ("Jan Weber", "ECR", "blue-card question",
         ["Will you accept that the legal risk falls on Belgium?"]),
        ("Anna Flanagan", "Renew", "blue-card answer",
         ["No, the risk is shared by all Member States and the guarantee covers it."]),
        (None, "", "", ["The interpreters could not identify the next speaker, who argued "
                        "that sanctions must be tightened before any assets are touched."]),
        ("Marek Nowak", "PfE", "", ["Panie Przewodniczący! Sankcje nie działają."]),
    ]),
    ("Explanations of vote", [
        ("Laura Ballarín Cereza", "S&D", "por escrito",
         ["El Grupo S&D apoya el uso de los activos congelados."]),
    ]),
]


def _speakers(blocks):
    return [(b.speaker_name, b.speaker_party, b.speaker_role) for b in blocks]


def test_a_cre_page_gives_one_speech_per_speaker_block():
    page = parse_cre_html(cre_page(DAY))
    assert str(page.date) == "2025-03-12" and page.agenda_items == 2
    assert _speakers(page.blocks) == [
        ("President", "", "President"),
        ("Valdis Ozols", "", "Member of the Commission"),
        ("Claire Fita", "S&D", "au nom du groupe S&D"),
        ("Angelika Niebler", "PPE", "MEP"),
        ("Jan Weber", "ECR", "blue-card question"),
        ("Anna Flanagan", "Renew", "blue-card answer"),
        ("unknown", "", ""),
        ("Marek Nowak", "PfE", "MEP"),
        ("Laura Ballarín Cereza", "S&D", "por escrito"),
    ]
    titles = [b.debate_title for b in page.blocks]
    assert titles == ["Frozen Russian assets (debate)"] * 8 + ["Explanations of vote"]
    ozols = page.blocks[1].text
    assert ozols == ("Mr President, the Commission proposes to use the windfall profits."
                     "\n\nWe will table the act in June.")  # stage direction dropped
    # the unattributable block is its own speech, never merged with its neighbours
    unknown = page.blocks[6]
    assert unknown.text.startswith("The interpreters could not identify")
    assert "Belgium" not in unknown.text and "Sankcje" not in unknown.text
    assert page.blocks[5].text.startswith("No, the risk") and "interpreters" not in \
        page.blocks[5].text
    assert page.skipped_procedural == 1
    assert all("MPphoto" not in b.text and "<" not in b.text for b in page.blocks)


def test_a_double_encoded_page_is_repaired_and_a_clean_one_left_alone():
    clean = cre_page(DAY)
    broken = double_encoded(clean)
    assert "â\x80\x93" in broken and has_mojibake(broken) and not has_mojibake(clean)
    assert parse_cre_html(broken).blocks == parse_cre_html(clean).blocks
    fita = parse_cre_html(broken).blocks[2]
    assert fita.text == "Monsieur le Président, les avoirs gelés doivent servir à l'Ukraine."


def test_document_records_detect_each_speech_language(tmp_path):
    path = tmp_path / "CRE-10-2025-03-12_EN.html"
    path.write_text(double_encoded(cre_page(DAY)), encoding="utf-8")
    records = list(document_records(path))
    languages = {r["speaker_name"]: r["intervention_language"] for r in records}
    assert languages["Valdis Ozols"] == "en" and languages["Claire Fita"] == "fr"
    assert languages["Angelika Niebler"] == "de" and languages["Marek Nowak"] == "pl"
    assert languages["Laura Ballarín Cereza"] == "es"
    assert [r["position"] for r in records] == list(range(1, 10))
    again = list(document_records(path))
    assert [r["id"] for r in again] == [r["id"] for r in records]  # deterministic ids
    assert len({r["id"] for r in records}) == len(records)


@pytest.mark.parametrize("html, message", [
    ("<html><head><title>Cooking</title></head><body><p>Pasta, salt, water.</p></body></html>",
     "no speaker headings"),
    (cre_page(DAY, lang="fr"), "FR edition"),
    (cre_page(DAY)[:3000], "truncated"),
    ("", "empty"),
])
def test_bad_html_pages_say_what_was_found(tmp_path, html, message):
    path = tmp_path / "page.html"
    path.write_text(html, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        list(document_records(path))


@pytest.mark.skipif(not CRE_HTML.exists(), reason="../shared/corpora/cre-html not present")
def test_a_real_cre_page_matches_the_published_records():
    from eval.parse import run_parse_eval

    figures = run_parse_eval([CRE_HTML / "CRE-10-2025-05-22_EN.html"], RECORDS)
    f = figures.figures()
    assert figures.found == figures.published == 92
    assert f["attributed"] >= 0.98 and f["speaker"] >= 0.98 and f["group"] >= 0.97
    assert f["title"] >= 0.98 and f["language"] >= 0.95 and f["role"] >= 0.95
    assert figures.mojibake == 0 and figures.misses() == []


def test_empty_and_scanned_pdfs_say_so(tmp_path):
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="the file is empty"):
        list(document_records(empty))
    from test_documents import _pdf

    scanned = tmp_path / "scanned.pdf"
    _pdf(scanned, lines=())
    with pytest.raises(InputError, match="no text found.*scanned PDF"):
        list(document_records(scanned))


def test_translated_quotes_are_flagged(settings, embedder, tmp_path):
    from conftest import write_jsonl
    from ingest.pipeline import ingest_paths
    from ingest.store import open_client
    from rag.assistant import Assistant
    from rag.extractive import ExtractiveGenerator
    from rag.index import CorpusIndex
    from rag.retriever import Retriever

    corpus = write_jsonl(tmp_path / "tr.jsonl", [
        {"id": "de-1", "speaker_name": "Angelika Niebler", "speaker_party": "PPE",
         "debate_title": "Fishing quotas (debate)", "date": "2025-03-12",
         "intervention_language": "de", "text": "Die Fangquoten für Kabeljau müssen sinken.",
         "translated_text": "The fishing quotas for cod in the Baltic must be cut by half."},
        {"id": "en-1", "speaker_name": "Billy Kelleher", "speaker_party": "Renew",
         "debate_title": "Fishing quotas (debate)", "date": "2025-03-12",
         "intervention_language": "en",
         "text": "Irish fishermen need a fair share of the mackerel quota."},
    ])
    client = open_client(settings)
    ingest_paths(settings, [corpus], embedder, client)
    assistant = Assistant(Retriever(CorpusIndex.load(settings, client), embedder),
                          ExtractiveGenerator(embedder), k=2)
    answer = assistant.ask("What was said about the fishing quotas for cod in the Baltic?")
    cited = {c.speech_id: c for c in answer.sources}
    assert cited["de-1"].translated is True and cited["de-1"].original_language == "de"
    assert cited["en-1"].translated is False and cited["en-1"].original_language == ""
    data = answer.to_dict()
    source = next(s for s in data["sources"] if s["speech_id"] == "de-1")
    assert source["translated"] is True and source["original_language"] == "de"


def test_cli_bad_inputs_give_one_line_and_nonzero_exit(tmp_path):
    from conftest import run_cli

    (tmp_path / "empty.jsonl").write_text("", encoding="utf-8")
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "notes.xlsx").write_bytes(b"PK")
    (folder / "recipe.html").write_text("<html><body><p>Pasta, salt and water.</p></body></html>",
                                        encoding="utf-8")
    cases = [
        (["ask", "What about fishing?"], "no collection 'debates'"),
        (["ingest", str(tmp_path / "empty.jsonl"), "--no-progress"], "hold(s) no records"),
        (["ingest", str(folder), "--no-progress"], "no speaker headings"),
    ]
    outputs = []
    for args, message in cases:
        proc = run_cli(*args)
        assert proc.returncode != 0, args
        assert message in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
        outputs.append(proc.stdout)
    assert "skipped:" in outputs[2] and "notes.xlsx (unsupported type '.xlsx')" in outputs[2]


def test_the_docx_edition_gives_the_same_speeches(tmp_path):
    from eval.cre_docx import cre_to_docx

    # a text edition has no block boundaries: an unattributable paragraph after a speech
    # cannot be told from that speech's next paragraph, so this day leaves it out
    day = [(title, [b for b in blocks if b[0] or not b[3][0].startswith("The interpreters")])
           for title, blocks in DAY]
    page = tmp_path / "CRE-10-2025-03-12_EN.html"
    page.write_text(double_encoded(cre_page(day)), encoding="utf-8")
    target = tmp_path / "CRE-10-2025-03-12_EN.docx"
    assert cre_to_docx(page, target) == 2
    from_docx = list(document_records(target))
    from_html = list(document_records(page))
    fields = ("speaker_name", "speaker_party", "speaker_role", "debate_title", "text", "date")
    assert [[r[f] for f in fields] for r in from_docx] == [[r[f] for f in fields]
                                                           for r in from_html]
