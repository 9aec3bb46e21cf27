"""Export a collection as a dataset (and re-ingest it), and remove speeches from it."""

from __future__ import annotations

from dataclasses import asdict

import pytest

from cre_pages import cre_page
from ingest.errors import InputError
from ingest.export import export_speeches
from ingest.pipeline import ingest_paths
from ingest.records import RecordReader
from ingest.remove import remove_speeches
from ingest.state import Manifest
from ingest.store import open_client, open_collection
from test_cre import DAY


def _speeches(settings, collection):
    manifest = Manifest(settings.state_path(collection))
    try:
        return [asdict(s) for s in manifest.iter_speeches()]
    finally:
        manifest.close()


@pytest.fixture
def page(tmp_path):
    path = tmp_path / "CRE-10-2025-03-12_EN.html"
    path.write_text(cre_page(DAY), encoding="utf-8")
    return path


def test_export_round_trip_gives_the_same_speeches(settings, embedder, page, tmp_path):
    client = open_client(settings)
    ingest_paths(settings, [page], embedder, client, "cre")
    original = _speeches(settings, "cre")
    assert len(original) == 9 and original[0]["source"] == str(page)
    target = tmp_path / "out.jsonl"
    assert export_speeches(settings, target, "cre") == 9
    report = ingest_paths(settings, [target], embedder, client, "again")
    assert sum(report.rejected.values()) == 0
    assert _speeches(settings, "again") == original
    for suffix in (".csv", ".parquet"):  # the same records, read back as an ingest reads them
        target = tmp_path / f"out{suffix}"
        assert export_speeches(settings, target, "cre") == 9
        speeches = list(RecordReader(settings.max_speech_chars).read(target))
        assert [asdict(s) for s in speeches] == original, suffix
    extra = tmp_path / "extra.jsonl"
    export_speeches(settings, extra, "cre", extra=lambda s: {"words": len(s.text.split())})
    first = extra.read_text("utf-8").splitlines()[0]
    assert '"words": 10' in first and '"speaker_name": "President"' in first
    with pytest.raises(InputError, match="no collection"):
        export_speeches(settings, tmp_path / "x.jsonl", "nope")
    with pytest.raises(InputError, match="unsupported export format"):
        export_speeches(settings, tmp_path / "x.xlsx", "cre")


def test_remove_by_speech_debate_and_source(settings, embedder, page):
    client = open_client(settings)
    ingest_paths(settings, [page], embedder, client)
    collection = open_collection(client, settings.collection)
    speeches = _speeches(settings, None)
    fita = next(s for s in speeches if s["speaker"] == "Claire Fita")
    report = remove_speeches(settings, embedder, client, speech=fita["speech_id"])
    assert report.speeches_removed == 1 and report.debates_reindexed == 1
    assert not collection.get(where={"speech_id": fita["speech_id"]})["ids"]
    markdown = (settings.markdown_dir() / f"{fita['debate_id']}.md").read_text("utf-8")
    assert "avoirs gelés" not in markdown and "windfall profits" in markdown
    assert len(_speeches(settings, None)) == 8

    votes = next(s for s in speeches if s["debate_title"] == "Explanations of vote")
    report = remove_speeches(settings, embedder, client, debate=votes["debate_id"])
    assert report.debates_emptied == 1
    assert not (settings.markdown_dir() / f"{votes['debate_id']}.md").exists()
    assert not collection.get(where={"debate_id": votes["debate_id"]})["ids"]

    report = remove_speeches(settings, embedder, client, source=page)
    assert report.speeches_removed == 7 and collection.count() == 0
    assert _speeches(settings, None) == [] and not list(settings.markdown_dir().glob("*.md"))
    with pytest.raises(InputError, match="no speeches read from"):
        remove_speeches(settings, embedder, client, source=page)
