"""Shared fixtures: a temporary HEMICYCLE_HOME per test, one embedder per session,
a tiny hand-written corpus, and helpers to run the real ``hemicycle`` command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fake_llm import fake_llm  # noqa: F401 - the local OpenAI/Groq server fixture, for every module
from ingest.embedder import Embedder
from ingest.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "corpus" / "ep-sample.jsonl"
SHARED = ROOT.parent / "shared" / "corpora" / "ep-cre-10-dev.jsonl"
_KEYS = ("GROQ_API_KEY", "HEMICYCLE_GROQ_API_KEY", "HEMICYCLE_OPENAI_API_KEY",
         "OPENROUTER_API_KEY", "HEMICYCLE_GROQ_BASE_URL", "HEMICYCLE_CHROMA_HOST",
         "HEMICYCLE_CHROMA_PORT", "HEMICYCLE_COLLECTION", "HEMICYCLE_GENERATOR")

LONG = " ".join(
    f"Point {i}: the Farm Resilience Fund must reach {i * 3} percent of small farms in "
    f"region {i}, because prices fell by {i + 10} percent while fertiliser costs doubled."
    for i in range(1, 40))

TINY = [
    {"id": "t-001", "speaker_name": "President", "speaker_party": "", "speaker_role": "President",
     "debate_title": "EU–Mercosur trade agreement", "date": "2023-03-14", "year": 2023,
     "intervention_language": "en", "text": "The next item is the debate on the EU–Mercosur agreement."},
    {"id": "t-002", "speaker_name": "Ana Ferreira", "speaker_party": "PPE", "speaker_role": "MEP",
     "debate_title": "EU–Mercosur trade agreement", "date": "2023-03-14", "year": 2023,
     "intervention_language": "en",
     "text": "This agreement removes tariffs on 91 percent of our exports.\n\nIt saves European "
             "exporters four billion euro a year in duties."},
    {"id": "t-003", "speaker_name": "Jonas Weber", "speaker_party": "Verts/ALE",
     "speaker_role": "MEP", "debate_title": "EU–Mercosur trade agreement", "date": "2023-03-14",
     "year": 2023, "intervention_language": "en",
     "text": "The beef quota of 99,000 tonnes will accelerate deforestation in the Amazon. "
             "We Greens will vote against any deal without binding climate clauses."},
    {"id": "t-004", "speaker_name": "Marta Kowalczyk", "speaker_party": "S&D",
     "speaker_role": "MEP", "debate_title": "EU–Mercosur trade agreement", "date": "2023-03-14",
     "year": 2023, "intervention_language": "en",
     "text": "Workers' rights and ILO conventions must be enforceable, otherwise this deal "
             "rewards social dumping."},
    {"id": "t-005", "speaker_name": "Lena Sørensen", "speaker_party": "Renew",
     "speaker_role": "MEP", "debate_title": "Farmers' protests and the CAP",
     "date": "2024-02-06", "year": 2024, "intervention_language": "en", "text": LONG},
    {"id": "t-006", "speaker_name": "Pierre Laval-Roux", "speaker_party": "ID",
     "speaker_role": "MEP", "debate_title": "Farmers' protests and the CAP",
     "date": "2024-02-06", "year": 2024, "intervention_language": "en",
     "text": "Brussels bureaucracy is strangling our farmers with paperwork and pesticide bans."},
    {"id": "t-007", "speaker_name": "Commissioner Ilse Brandt", "speaker_party": "",
     "speaker_role": "Commissioner", "debate_title": "Farmers' protests and the CAP",
     "date": "2024-02-06", "year": 2024, "intervention_language": "en",
     "text": "The Commission will withdraw the pesticide reduction proposal and simplify "
             "conditionality for farms under ten hectares."},
    {"id": "t-008", "speaker_name": "Jonas Weber", "speaker_party": "Greens/EFA",
     "speaker_role": "MEP", "debate_title": "Artificial Intelligence Act",
     "date": "2023-06-13", "year": 2023, "intervention_language": "de",
     "text": "Biometrische Massenüberwachung muss verboten werden.",
     "translated_text": "Biometric mass surveillance in public spaces must be banned outright."},
    {"id": "t-009", "speaker_name": "Karel Novák", "speaker_party": "ECR", "speaker_role": "MEP",
     "debate_title": "Artificial Intelligence Act", "date": "2023-06-13", "year": 2023,
     "intervention_language": "en",
     "text": "Police need real-time facial recognition to find missing children and terrorists."},
    {"id": "t-010", "speaker_name": "Rosa Martín", "speaker_party": "The Left",
     "speaker_role": "MEP", "debate_title": "Artificial Intelligence Act",
     "date": "2023-06-13", "year": 2023, "intervention_language": "en",
     "text": "Workplace surveillance by algorithms must be regulated as high-risk."},
]


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path, monkeypatch):
    """No test sees a real key, a real server or the repo's data directory."""
    for key in _KEYS:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("HEMICYCLE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.chdir(tmp_path)  # no stray .env from the repo


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(home=tmp_path / "home", ingest_flush_chunks=8)


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return Embedder("all-MiniLM-L6-v2")


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


@pytest.fixture
def tiny_corpus(tmp_path) -> Path:
    return write_jsonl(tmp_path / "in" / "tiny.jsonl", TINY)


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 300,
            check: bool = False) -> subprocess.CompletedProcess[str]:
    """Run the installed ``hemicycle`` entry point in a subprocess."""
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.run([sys.executable, "-c", "from ui.cli import main; main()", *args],
                          capture_output=True, text=True, env=full_env, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"hemicycle {' '.join(args)} failed: {proc.stderr}")
    return proc


@pytest.fixture(scope="session")
def real_index(tmp_path_factory, embedder):
    """The real-debate evaluation corpus (eval/real_corpus.py: 1,043 English speeches of ten
    sitting days), ingested once per session; skipped without ``../shared``."""
    if not SHARED.exists():
        pytest.skip("the real corpus (../shared/corpora) is not available")
    from eval.real_corpus import write_real_corpus
    from ingest.pipeline import ingest_paths
    from ingest.store import open_client
    from rag.index import CorpusIndex

    root = tmp_path_factory.mktemp("real")
    subset = root / "in" / "real.jsonl"
    write_real_corpus(SHARED, subset)
    settings = Settings(home=root / "home")
    client = open_client(settings)
    ingest_paths(settings, [subset], embedder, client)
    return CorpusIndex.load(settings, client)
