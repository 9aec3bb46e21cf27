"""The real ``hemicycle`` command in subprocesses: output contracts, errors, resume, server."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import TINY, run_cli, write_jsonl


def _no_traceback(proc):
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    return lines[0]


@pytest.mark.slow
def test_ingest_stats_and_search_json(tiny_corpus):
    proc = run_cli("ingest", str(tiny_corpus), "--no-progress", check=True)
    assert "chunks:" in proc.stdout and "10 new" in proc.stdout
    stats = json.loads(run_cli("stats", "--json", check=True).stdout)
    assert stats["speeches"] == 10 and stats["debates"] == 3
    assert stats["by_party"]["Greens/EFA"] == 2 and stats["by_party"]["EPP"] == 1
    assert stats["by_year"] == {"2023": 7, "2024": 3}
    assert stats["chunks"] > 10
    hits = json.loads(run_cli("search", "beef quota deforestation", "--k", "3", "--json",
                              check=True).stdout)
    assert hits[0]["speech_id"] == "t-003"
    for key in ("speech_id", "chunk_id", "score", "speaker", "party", "date", "debate_title",
                "text"):
        assert key in hits[0]
    filtered = json.loads(run_cli("search", "surveillance", "--party", "Greens", "--date-from",
                                  "2023-01-01", "--date-to", "2023-12-31", "--json",
                                  check=True).stdout)
    assert filtered and {h["party"] for h in filtered} == {"Greens/EFA"}
    speaker = json.loads(run_cli("search", "farmers", "--speaker", "sørensen", "--retriever",
                                 "dense", "--json", check=True).stdout)
    assert {h["speaker"] for h in speaker} == {"Lena Sørensen"}
    assert len(speaker) == 1  # several chunks of one speech collapse into one hit
    text = run_cli("search", "beef quota", "--k", "1", check=True).stdout
    assert "Jonas Weber (Greens/EFA)" in text and "2023-03-14" in text
    rerun = run_cli("ingest", str(tiny_corpus), "--no-progress", "--json", check=True)
    report = json.loads(rerun.stdout)
    assert report["chunks_new"] == 0 and report["speeches"] == {"unchanged": 10}


@pytest.mark.parametrize("args, message", [
    (["ingest", "does/not/exist.jsonl"], "no such file"),
    (["ingest", "notes.xlsx"], "unsupported file type"),
    (["search", "x", "--date-from", "2024-13-01"], "expected a date"),
    (["search", "x", "--retriever", "magic"], "unknown retriever"),
    (["ingest", "tiny.jsonl", "--map", "nonsense"], "FIELD=COLUMN"),
])
def test_user_mistakes_give_one_line_and_nonzero_exit(tmp_path, args, message):
    (tmp_path / "notes.xlsx").write_bytes(b"PK")
    write_jsonl(tmp_path / "tiny.jsonl", TINY[:1])
    proc = run_cli(*args)
    assert proc.returncode != 0
    assert message in _no_traceback(proc)


def test_unreadable_chroma_directory(tmp_path, tiny_corpus):
    home = tmp_path / "home"
    home.mkdir()
    (home / "chroma").write_text("not a directory")
    proc = run_cli("ingest", str(tiny_corpus))
    assert proc.returncode != 0
    assert "cannot open Chroma index" in _no_traceback(proc)


def test_corrupt_chroma_database(tmp_path, tiny_corpus):
    chroma = tmp_path / "home" / "chroma"
    chroma.mkdir(parents=True)
    (chroma / "chroma.sqlite3").write_bytes(b"this is not a sqlite database" * 100)
    proc = run_cli("ingest", str(tiny_corpus))
    assert proc.returncode != 0
    assert "Chroma" in _no_traceback(proc)


def test_unreachable_chroma_server(tiny_corpus):
    port = _free_port()
    proc = run_cli("ingest", str(tiny_corpus), env={"HEMICYCLE_CHROMA_HOST": "127.0.0.1",
                                                    "HEMICYCLE_CHROMA_PORT": str(port)})
    assert proc.returncode != 0
    assert f"cannot reach Chroma server http://127.0.0.1:{port}" in _no_traceback(proc)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _many_speeches(n: int) -> list[dict]:
    records = []
    for i in range(n):
        topic = ["energy prices", "migration pact", "rule of law", "AI Act"][i % 4]
        records.append({
            "id": f"m-{i:04d}", "speaker_name": f"Member {i % 17}", "speaker_party":
            ["EPP", "S&D", "Renew", "Greens/EFA", "ECR", "PfE", "The Left", "NI"][i % 8],
            "speaker_role": "MEP", "debate_title": f"Debate on {topic} {i // 12}",
            "date": f"2024-0{1 + i % 9}-1{i % 10}", "year": 2024, "intervention_language": "en",
            "text": " ".join(f"On {topic}, argument {j} of speech {i}: we propose measure "
                             f"{i * 7 + j} costing {j + 1} billion euro." for j in range(12)),
        })
    return records


@pytest.mark.slow
def test_killed_ingest_resumes_without_duplicates(tmp_path):
    corpus = write_jsonl(tmp_path / "many.jsonl", _many_speeches(60))
    env = {"HEMICYCLE_INGEST_FLUSH_CHUNKS": "8"}
    # reference: an uninterrupted run in its own home
    reference = tmp_path / "reference"
    run_cli("ingest", str(corpus), "--no-progress", env={**env, "HEMICYCLE_HOME": str(reference)},
            check=True)
    # interrupted run: SIGKILL once some chunks are committed, then run again
    home = tmp_path / "home"
    state = home / "collections" / "debates" / "state.sqlite"
    proc = subprocess.Popen([sys.executable, "-c", "from ui.cli import main; main()", "ingest",
                             str(corpus), "--no-progress"],
                            env={**os.environ, **env, "HEMICYCLE_HOME": str(home)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    committed = 0
    while time.time() < deadline and proc.poll() is None:
        committed = _committed_chunks(state)
        if committed >= 16:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "ingest finished before it could be interrupted"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    total = len(_ids(reference))
    assert 16 <= committed < total
    resumed = run_cli("ingest", str(corpus), "--no-progress", "--json",
                      env={**env, "HEMICYCLE_HOME": str(home)}, check=True)
    report = json.loads(resumed.stdout)
    assert report["chunks_new"] < total  # work done before the kill was kept
    assert _ids(home) == _ids(reference)
    assert _committed_chunks(state) == total


def _committed_chunks(state: Path) -> int:
    if not state.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{state}?mode=ro", uri=True, timeout=1) as db:
            return db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
    except sqlite3.Error:
        return 0


def _ids(home: Path) -> list[str]:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    client = chromadb.PersistentClient(path=str(home / "chroma"),
                                       settings=ChromaSettings(anonymized_telemetry=False))
    return sorted(client.get_collection("debates").get(include=[])["ids"])


@pytest.fixture
def chroma_server(tmp_path):
    port = _free_port()
    exe = Path(sys.executable).with_name("chroma")
    proc = subprocess.Popen([str(exe), "run", "--path", str(tmp_path / "server-data"), "--host",
                             "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import chromadb

    deadline = time.time() + 60
    while True:
        try:
            chromadb.HttpClient(host="127.0.0.1", port=port).heartbeat()
            break
        except Exception:
            if time.time() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("chroma run did not start") from None
            time.sleep(0.3)
    yield port
    proc.terminate()
    proc.wait(timeout=20)


@pytest.mark.slow
def test_ingest_and_search_through_a_chroma_server(chroma_server, tiny_corpus, tmp_path):
    env = {"HEMICYCLE_CHROMA_HOST": "127.0.0.1", "HEMICYCLE_CHROMA_PORT": str(chroma_server)}
    run_cli("ingest", str(tiny_corpus), "--no-progress", env=env, check=True)
    import chromadb

    server = chromadb.HttpClient(host="127.0.0.1", port=chroma_server)
    assert server.get_collection("debates").count() > 10
    assert not (tmp_path / "home" / "chroma").exists()  # nothing embedded locally
    hits = json.loads(run_cli("search", "facial recognition for police", "--k", "2", "--json",
                              env=env, check=True).stdout)
    assert hits[0]["speech_id"] == "t-009"
