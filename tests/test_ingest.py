"""The ingest pipeline against a real embedded Chroma and the real embedder."""

from __future__ import annotations

import json

import pytest

from conftest import TINY, write_jsonl
from ingest.pipeline import ingest_paths
from ingest.state import Manifest
from ingest.store import open_client, open_collection

METADATA = {"speech_id", "debate_id", "debate_title", "date", "year", "speaker", "party",
            "role", "language", "chunk_index", "char_start", "char_end"}


def _ingest(settings, embedder, *paths, **kwargs):
    return ingest_paths(settings, list(paths), embedder, open_client(settings), **kwargs)


def _collection(settings):
    return open_collection(open_client(settings), settings.collection)


def test_first_ingest_indexes_every_speech_with_full_metadata(settings, embedder, tiny_corpus):
    report = _ingest(settings, embedder, tiny_corpus)
    assert report.records_read == 10
    assert sum(report.rejected.values()) == 0
    assert report.speeches["new"] == 10
    got = _collection(settings).get(include=["metadatas", "documents", "embeddings"])
    assert len(got["ids"]) == report.chunks_new
    assert report.chunks_new > 10  # the long speech is split into several chunks
    for meta in got["metadatas"]:
        assert METADATA <= set(meta)
        assert isinstance(meta["year"], int) and meta["date"][:4] == str(meta["year"])
    by_speech = {}
    for meta in got["metadatas"]:
        by_speech.setdefault(meta["speech_id"], []).append(meta)
    assert len(by_speech["t-005"]) >= 3
    # the CRE labels are normalised to one group name
    parties = {m["speaker"]: m["party"] for m in got["metadatas"]}
    assert parties["Ana Ferreira"] == "EPP" and parties["Lena Sørensen"] == "Renew"
    # vectors are normalized
    norms = [sum(x * x for x in vec) ** 0.5 for vec in got["embeddings"]]
    assert all(abs(n - 1) < 1e-3 for n in norms)


def test_chunks_fit_the_model_and_point_into_the_debate_markdown(settings, embedder,
                                                                 tiny_corpus):
    _ingest(settings, embedder, tiny_corpus)
    got = _collection(settings).get(include=["metadatas", "documents"])
    speeches = {r["id"]: r for r in TINY}
    for meta, text in zip(got["metadatas"], got["documents"]):
        markdown = (settings.markdown_dir() / f"{meta['debate_id']}.md").read_text("utf-8")
        assert markdown[meta["char_start"]: meta["char_end"]] == text
        source = speeches[meta["speech_id"]]
        body = source.get("translated_text") or source["text"]
        assert text in body  # a chunk never spans two speeches
        assert len(embedder.tokenizer.tokenize(text)) <= settings.chunk_tokens
    long_chunks = sorted((m["chunk_index"], d) for m, d in zip(got["metadatas"],
                                                               got["documents"])
                         if m["speech_id"] == "t-005")
    # consecutive chunks overlap
    assert long_chunks[0][1][-40:] in long_chunks[1][1] or any(
        w in long_chunks[1][1][:200] for w in long_chunks[0][1][-60:].split()[-3:])


def test_translation_is_used_for_non_english_speeches(settings, embedder, tiny_corpus):
    _ingest(settings, embedder, tiny_corpus)
    got = _collection(settings).get(ids=None, where={"speech_id": "t-008"},
                                    include=["documents", "metadatas"])
    assert got["documents"] == ["Biometric mass surveillance in public spaces must be banned "
                                "outright."]
    assert got["metadatas"][0]["language"] == "de"


def test_rerun_adds_nothing_and_embeds_nothing(settings, embedder, tiny_corpus):
    first = _ingest(settings, embedder, tiny_corpus)
    ids_before = sorted(_collection(settings).get(include=[])["ids"])
    second = _ingest(settings, embedder, tiny_corpus)
    assert second.chunks_new == 0 and second.chunks_removed == 0
    assert second.chunks_unchanged == first.chunks_new  # "0 new, N unchanged"
    assert "chunks: 0 new, " + f"{first.chunks_new} unchanged" in second.summary_lines()[2]
    assert second.speeches["unchanged"] == 10 and second.embed_seconds == 0
    assert second.debates_indexed == 0
    assert sorted(_collection(settings).get(include=[])["ids"]) == ids_before
    assert first.chunks_new == len(ids_before)


def test_changed_speech_replaces_its_chunks(settings, embedder, tmp_path):
    path = write_jsonl(tmp_path / "v1.jsonl", TINY)
    _ingest(settings, embedder, path)
    collection = _collection(settings)
    old = set(collection.get(where={"speech_id": "t-005"}, include=[])["ids"])
    changed = [dict(r) for r in TINY]
    changed[4]["text"] = "A short replacement: the fund is withdrawn."
    changed[1]["text"] += " One more sentence."
    report = _ingest(settings, embedder, write_jsonl(tmp_path / "v2.jsonl", changed))
    assert report.speeches["changed"] == 2
    new = collection.get(where={"speech_id": "t-005"}, include=["documents"])
    assert new["documents"] == ["A short replacement: the fund is withdrawn."]
    assert not old & set(new["ids"])
    assert report.chunks_removed == len(old) + 1
    # nothing duplicated: exactly one chunk per position per speech
    metas = collection.get(include=["metadatas"])["metadatas"]
    keys = [(m["speech_id"], m["chunk_index"]) for m in metas]
    assert len(keys) == len(set(keys))
    # spans of the unchanged speeches after the edited one were moved, not re-embedded
    for meta, text in zip(metas, collection.get(include=["documents"])["documents"]):
        markdown = (settings.markdown_dir() / f"{meta['debate_id']}.md").read_text("utf-8")
        assert markdown[meta["char_start"]: meta["char_end"]] == text


def test_deleted_index_is_rebuilt_from_the_manifest(settings, embedder, tiny_corpus):
    first = _ingest(settings, embedder, tiny_corpus)
    client = open_client(settings)
    client.delete_collection(settings.collection)
    report = _ingest(settings, embedder, tiny_corpus)
    assert report.chunks_new == first.chunks_new
    assert _collection(settings).count() == first.chunks_new


BAD = [
    {"id": "b-1", "speaker_name": "X", "debate_title": "D", "date": "2023-01-01"},  # no text
    {"id": "b-2", "speaker_name": "X", "debate_title": "D", "date": "2023-01-01", "text": "  "},
    {"id": "b-3", "speaker_name": "X", "debate_title": "D", "date": "yesterday", "text": "Hi."},
    {"id": "b-4", "speaker_name": 42, "debate_title": "D", "date": "2023-01-01", "text": "Hi."},
    {"id": "b-5", "speaker_name": "X", "debate_title": "D", "date": "2023-01-01",
     "text": "x " * 600_000},
    {"id": "b-6", "speaker_name": "X", "debate_title": "D", "date": "2023-02-30", "text": "Hi."},
    {"id": "b-7", "speaker_name": "X", "debate_title": "D", "date": "2023-01-01",
     "text": ["a", "list"]},
]


def test_bad_records_are_rejected_with_reasons_and_good_ones_land(settings, embedder,
                                                                  tmp_path):
    path = tmp_path / "mixed.jsonl"
    good = TINY[:3]
    lines = [json.dumps(r, ensure_ascii=False).encode() for r in good[:2]]
    lines += [json.dumps(r).encode() for r in BAD]
    lines.append(b'{"id": "b-8", "text": "caf\xe9 bytes", "date": "2023-01-01"}')  # latin-1
    lines.append(b'{"id": "b-9", "text": ')  # truncated JSON
    lines.append(json.dumps(good[1], ensure_ascii=False).encode())  # exact duplicate
    lines.append(json.dumps(good[2], ensure_ascii=False).encode())
    path.write_bytes(b"\n".join(lines) + b"\n")
    report = _ingest(settings, embedder, path)
    assert report.records_read == 13
    assert report.speeches["new"] == 3
    assert dict(report.rejected) == {
        "missing_text": 1, "empty_text": 1, "unparseable_date": 2, "wrong_type:speaker_name": 1,
        "too_long": 1, "wrong_type:text": 1, "undecodable_bytes": 1, "invalid_json": 1,
        "duplicate": 1}
    rejects = [json.loads(line) for line in
               settings.rejects_path().read_text("utf-8").splitlines()]
    assert len(rejects) == 10
    assert {r["reason"] for r in rejects} >= {"too_long", "undecodable_bytes", "duplicate"}
    assert {r["id"] for r in rejects if r["reason"] == "unparseable_date"} == {"b-3", "b-6"}
    speech_ids = {m["speech_id"] for m in _collection(settings).get(
        include=["metadatas"])["metadatas"]}
    assert speech_ids == {"t-001", "t-002", "t-003"}


def test_csv_and_parquet_with_a_column_mapping(settings, embedder, tmp_path):
    import csv

    import pyarrow as pa
    import pyarrow.parquet as pq

    csv_path = tmp_path / "other.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Speaker", "Group", "Title", "When", "Body"])
        writer.writerow(["Eva Lind", "Renew", "Housing crisis", "2022-05-04T09:00:00",
                         "Rents rose by 18 percent,\nso we need the\n\nAffordable Homes Fund."])
        writer.writerow(["Tom Reyes", "ECR", "Housing crisis", "2022-05-04", ""])
    mapping = {"speaker_name": "Speaker", "speaker_party": "Group", "debate_title": "Title",
               "date": "When", "text": "Body"}
    report = _ingest(settings, embedder, csv_path, column_map=mapping)
    assert report.speeches["new"] == 1 and dict(report.rejected) == {"missing_text": 1}
    table = pa.Table.from_pylist(TINY[:4])
    pq.write_table(table, tmp_path / "tiny.parquet")
    report = _ingest(settings, embedder, tmp_path / "tiny.parquet")
    assert report.speeches["new"] == 4
    metas = _collection(settings).get(include=["metadatas"])["metadatas"]
    housing = [m for m in metas if m["debate_title"] == "Housing crisis"]
    assert housing and housing[0]["date"] == "2022-05-04" and housing[0]["speaker"] == "Eva Lind"
    assert housing[0]["speech_id"].startswith("h-")  # derived, stable id


def test_limit_reads_only_n_records(settings, embedder, tiny_corpus):
    report = _ingest(settings, embedder, tiny_corpus, limit=4)
    assert report.records_read == 4 and report.speeches["new"] == 4
    manifest = Manifest(settings.state_path())
    try:
        assert manifest.stats()["speeches"] == 4
    finally:
        manifest.close()


@pytest.mark.parametrize("name", ["notes.xlsx", "missing.jsonl"])
def test_bad_paths_raise_input_errors(settings, embedder, tmp_path, name):
    from ingest.errors import InputError

    path = tmp_path / name
    if name.endswith(".xlsx"):
        path.write_bytes(b"PK")
    with pytest.raises(InputError, match=name):
        _ingest(settings, embedder, path)
