"""Embedder backends: local ones offline, the remote one through a real local HTTP server,
the embedder recorded with each collection, ``reembed`` after SIGKILL, LangChain interop."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys

import numpy as np
import pytest

from conftest import SAMPLE, SHARED
from fake_llm import Status
from ingest.chunking import SpeechChunker
from ingest.e5_embedder import E5Embedder
from ingest.embedders import canonical_spec, make_embedder
from ingest.errors import ConfigError, ProviderError
from ingest.onnx_embedder import OnnxEmbedder
from ingest.pipeline import Ingestor, ingest_paths
from ingest.schema import Speech
from ingest.settings import Settings
from ingest.store import open_client, open_collection
from rag.index import CorpusIndex
from rag.retriever import Retriever

TEXTS = ["The beef quota will accelerate deforestation.", "Farmers need fair prices.",
         "Biometric mass surveillance must be banned."]


@pytest.fixture(scope="session")
def onnx_cache(tmp_path_factory):
    """One ONNX export (fp32 + int8) per test session, from the bundled local model."""
    cache = tmp_path_factory.mktemp("onnx-cache")
    OnnxEmbedder("all-MiniLM-L6-v2", cache, int8=True).encode(["warm up"])
    return cache


@pytest.fixture(scope="session")
def int8(onnx_cache):
    return OnnxEmbedder("all-MiniLM-L6-v2", onnx_cache, int8=True, spec="onnx-int8")


def _share_cache(settings: Settings, onnx_cache) -> None:
    """Point a test's HEMICYCLE_HOME at the session's export instead of exporting again."""
    settings.cache_dir.mkdir(parents=True, exist_ok=True)
    (settings.cache_dir / "onnx").symlink_to(onnx_cache / "onnx")


def test_specs_are_canonical_and_the_old_setting_is_an_alias(tmp_path):
    assert canonical_spec("all-MiniLM-L6-v2") == "st:all-MiniLM-L6-v2"
    assert canonical_spec("onnx-int8:sentence-transformers/all-MiniLM-L6-v2") == "onnx-int8"
    assert canonical_spec("openai:m@http://h:1/v1/") == "openai:m@http://h:1/v1"
    assert Settings(home=tmp_path, embedding_model="/models/x").embedder_spec == "st:/models/x"
    with pytest.raises(ConfigError, match="openai:MODEL@BASE_URL"):
        canonical_spec("openai:no-url")


@pytest.mark.parametrize("spec", ["st:all-MiniLM-L6-v2", "onnx", "onnx-int8", "e5-multilingual"])
def test_local_backend_embeds_offline_normalized_and_chunks(spec, tmp_path, onnx_cache,
                                                            embedder):
    settings = Settings(home=tmp_path / "home")
    _share_cache(settings, onnx_cache)
    backend = embedder if spec.startswith("st:") else make_embedder(spec, settings)
    vectors = backend.encode(TEXTS)
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    query = backend.encode_query("Which group opposes the beef quota?")
    assert abs(float(np.linalg.norm(query)) - 1) < 1e-4
    assert int(np.argmax(vectors @ query)) == 0
    assert backend.dimension == 384 and backend.spec == spec
    speech = Speech(speech_id="s1", debate_id="d", debate_title="t", date="2024-01-01",
                    year=2024, speaker="A", party="", role="MEP", language="en",
                    text=" ".join(TEXTS * 60))
    chunks = SpeechChunker(backend.tokenizer, 64, 8).split(speech, 0)
    assert len(chunks) > 3
    assert all(0 < len(backend.tokenizer.tokenize(c.text)) <= 64 for c in chunks)


def test_int8_vectors_stay_close_to_fp32_on_real_sentences(embedder, int8):
    source = SHARED if SHARED.exists() else SAMPLE
    texts = []
    with source.open(encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            if record.get("intervention_language", "en") == "en" and len(record["text"]) > 200:
                texts.append(record["text"][:800])
            if len(texts) == 24:
                break
    cosine = (embedder.encode(texts) * int8.encode(texts)).sum(axis=1)
    assert cosine.min() >= 0.95, cosine.min()
    import onnx

    from ingest.onnx_embedder import export_onnx

    graph = onnx.load(str(export_onnx(int8.model_dir, int8.cache_dir, int8=True))).graph
    ops = [node.op_type for node in graph.node]
    # the six layers fused by ONNX Runtime's transformer optimizer, then quantized
    assert ops.count("Attention") + ops.count("QAttention") == 6, sorted(set(ops))
    assert ops.count("SkipLayerNormalization") == 12


def test_another_embedder_is_a_one_line_error_naming_both(settings, embedder, int8,
                                                          tiny_corpus):
    client = open_client(settings)
    ingest_paths(settings, [tiny_corpus], embedder, client)
    assert open_collection(client, "debates").metadata["embedder"] == "st:all-MiniLM-L6-v2"
    assert open_collection(client, "debates").metadata["dimension"] == 384
    with pytest.raises(ConfigError) as ingest_error:
        Ingestor(settings, int8, client)
    with pytest.raises(ConfigError) as query_error:
        Retriever(CorpusIndex.load(settings, client), int8)
    for error in (ingest_error, query_error):
        message = str(error.value)
        assert "\n" not in message
        assert "'st:all-MiniLM-L6-v2'" in message and "'onnx-int8'" in message


@pytest.mark.slow
def test_reembed_resumes_after_sigkill(settings, embedder, onnx_cache, tiny_corpus, tmp_path):
    ingest_paths(settings, [tiny_corpus], embedder, open_client(settings))
    _share_cache(settings, onnx_cache)
    env = {**os.environ, "HEMICYCLE_HOME": str(settings.home),
           "HEMICYCLE_INGEST_FLUSH_CHUNKS": "1", "HF_HUB_OFFLINE": "1"}
    cmd = [sys.executable, "-c", "from ui.cli import main; main()", "reembed",
           "--embedder", "onnx-int8", "--collection", "debates-int8"]
    first = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=env)
    line = first.stdout.readline()  # the first batch is in Chroma
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=60)
    assert line.startswith("embedded "), first.stderr.read()
    assert first.returncode == -signal.SIGKILL
    second = subprocess.run(cmd + ["--json"], capture_output=True, text=True, env=env,
                            timeout=300)
    assert second.returncode == 0, second.stderr
    report = json.loads(second.stdout)
    total = report["chunks"]
    assert report["already_there"] >= 1 and report["embedded"] >= 1
    assert report["already_there"] + report["embedded"] == total
    client = open_client(settings)
    assert open_collection(client, "debates-int8").count() == total
    index = CorpusIndex.load(settings, client, "debates-int8")
    assert index.embedder_spec == "onnx-int8" and len(index) == total
    hits = Retriever(index, make_embedder("onnx-int8", settings)).search(
        "beef quota deforestation", k=1, mode="dense")
    assert hits[0].record.speech_id == "t-003"
    wrong = subprocess.run([sys.executable, "-c", "from ui.cli import main; main()", "search",
                            "beef", "--collection", "debates-int8"], capture_output=True,
                           text=True, env=env, timeout=300)
    assert wrong.returncode == 1 and wrong.stderr.count("\n") == 1
    assert "'onnx-int8'" in wrong.stderr and "'st:all-MiniLM-L6-v2'" in wrong.stderr


def test_remote_backend_retries_a_429_and_a_5xx(fake_llm, onnx_cache, tmp_path):
    served = OnnxEmbedder("all-MiniLM-L6-v2", onnx_cache, int8=False)  # the server's model
    fake_llm.embed = lambda texts: served.encode(texts).tolist()
    fake_llm.script(Status(429, {"retry-after": "0"}), Status(503))
    settings = Settings(home=tmp_path / "home", embedder=f"openai:minilm@{fake_llm.openai_base_url}",
                        llm_max_retries=2)
    remote = make_embedder(None, settings)
    vectors = remote.encode(TEXTS * 30)  # 90 texts: two batches of 64 and 26
    assert np.allclose(vectors, served.encode(TEXTS * 30), atol=1e-4)
    sizes = [len(r.body["input"]) for r in fake_llm.embedding_requests]
    assert sizes == [64, 64, 64, 26]  # the 429 and the 503 were retried
    assert remote.dimension == 384 and len(remote.tokenizer.tokenize("beef quota")) == 2
    fake_llm.script(Status(500), Status(500), Status(500))
    with pytest.raises(ProviderError, match="HTTP 500"):
        remote.encode(["x"])


def test_e5_ranks_a_greek_or_polish_passage_first_for_an_english_question():
    e5 = E5Embedder()
    passages = [  # written for this test: the answer sits in one non-English passage
        "Οι δασικές πυρκαγιές στην Ελλάδα κατέστρεψαν φέτος πάνω από 150.000 εκτάρια δάσους "
        "και η Επιτροπή πρέπει να ενισχύσει το rescEU με περισσότερα πυροσβεστικά αεροσκάφη.",
        "Kwoty połowowe dorsza na Morzu Bałtyckim muszą zostać obniżone, ponieważ stada "
        "zachodnie są bliskie załamania.",
        "La politique agricole commune doit mieux rémunérer les jeunes agriculteurs.",
        "Die Digitalsteuer für große Plattformen sollte auf EU-Ebene eingeführt werden.",
        "La riforma del patto di stabilità deve proteggere gli investimenti pubblici.",
    ]
    vectors = e5.encode(passages)
    for question, expected in [
            ("Which aircraft should the EU add to fight forest fires in Greece?", 0),
            ("Why should cod fishing quotas in the Baltic Sea be reduced?", 1)]:
        assert int(np.argmax(vectors @ e5.encode_query(question))) == expected


def test_fusion_scores_a_passage_in_another_language_by_its_dense_side_alone():
    from rag.fusion import DEFAULT_FUSION, fuse, query_language
    from rag.query import QueryHints

    dense = np.array([0.9, 0.5, 0.1, 0.3])
    lexical = np.array([0.0, 4.0, 2.0, 1.0])
    language = np.array([1, 0, 0, 1])  # row 0 is Greek (1), rows 1-2 English (0)
    rows = np.arange(4)
    assert query_language(rows, lexical, language) == 0  # 6.0 of BM25 in English, 1.0 Greek
    assert query_language(rows, np.zeros(4), language) is None
    hints = QueryHints()
    plain = fuse(rows, dense, lexical, DEFAULT_FUSION, hints, None, None, None)
    aware = fuse(rows, dense, lexical, DEFAULT_FUSION, hints, None, None, None,
                 language != 0)
    # dense min-max: 1, .5, 0, .25; BM25 / max: 0, 1, .5, .25; weight 0.5
    assert np.allclose(plain, [0.5, 0.75, 0.25, 0.25])
    assert np.allclose(aware, [1.0, 0.75, 0.25, 0.25])


def test_e5_hybrid_ranks_the_greek_answer_above_english_passages_sharing_its_words(tmp_path):
    """BM25 cannot match an English question against a Greek speech: with a multilingual
    embedder, hybrid ranks such a passage by its dense side alone (rag.fusion)."""
    records = [
        {"id": "x-el", "speaker_name": "Eleni Papadaki", "speaker_party": "PPE",
         "debate_title": "Civil protection", "date": "2025-07-08", "year": 2025,
         "intervention_language": "el", "text":
         "Οι δασικές πυρκαγιές στην Ελλάδα κατέστρεψαν φέτος πάνω από 150.000 εκτάρια δάσους "
         "και η Επιτροπή πρέπει να ενισχύσει το rescEU με περισσότερα πυροσβεστικά "
         "αεροσκάφη Canadair."},
        {"id": "x-en1", "speaker_name": "John Smith", "speaker_party": "ECR",
         "debate_title": "Transport", "date": "2025-07-08", "year": 2025,
         "intervention_language": "en", "text":
         "The EU budget will add a line for the rail network of Greece this year: trains, "
         "not aircraft, are the future of travel, and forest walks the future of tourism."},
        {"id": "x-en2", "speaker_name": "Anna Berg", "speaker_party": "Renew",
         "debate_title": "Transport", "date": "2025-07-08", "year": 2025,
         "intervention_language": "en", "text":
         "Aircraft maintenance rules in the EU add costs for airlines; we should simplify "
         "them for small operators in Greece and elsewhere."},
        {"id": "x-pl", "speaker_name": "Piotr Nowak", "speaker_party": "ECR",
         "debate_title": "Baltic fisheries", "date": "2025-07-08", "year": 2025,
         "intervention_language": "pl", "text":
         "Kwoty połowowe dorsza na Morzu Bałtyckim muszą zostać obniżone, ponieważ stada "
         "zachodnie są bliskie załamania."},
    ]
    path = tmp_path / "xl.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
                    encoding="utf-8")
    settings = Settings(home=tmp_path / "home", embedder="e5-multilingual")
    e5 = E5Embedder()
    client = open_client(settings)
    ingest_paths(settings, [path], e5, client)
    retriever = Retriever(CorpusIndex.load(settings, client), e5)
    question = ("How many hectares of forest burned in Greece this year, and which "
                "firefighting aircraft should rescEU get?")
    aware = retriever.search(question, k=4)
    assert aware[0].record.speech_id == "x-el"
    retriever._other_language = lambda *args: None  # the plain fusion, for comparison
    assert retriever.search(question, k=4)[0].record.speech_id != "x-el"


def test_lcel_chain_over_the_collection_cites_the_retrieved_speech(settings, embedder, fake_llm,
                                                                  tiny_corpus):
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate
    from langchain_core.runnables import RunnablePassthrough
    from langchain_openai import ChatOpenAI

    from rag.interop import as_langchain, open_vectorstore

    client = open_client(settings)
    ingest_paths(settings, [tiny_corpus], embedder, client)
    store = open_vectorstore(settings, client, embedder)
    assert store.embeddings.embed_query("x") == pytest.approx(
        as_langchain(embedder).embed_documents(["x"])[0], abs=1e-5)

    def answer(body):  # the fake model cites the source that mentions the beef quota
        numbers = re.findall(r"\[(\d+)\] [^\n]*99,000 tonnes", body["messages"][-1]["content"])
        return f"The Greens oppose the 99,000-tonne beef quota [{numbers[0]}]." if numbers \
            else "NOT_IN_SOURCES"

    fake_llm.responder = answer
    prompt = ChatPromptTemplate.from_messages([
        ("system", "Answer from the numbered sources only and cite them as [n]."),
        ("user", "{sources}\n\nQuestion: {question}")])
    model = ChatOpenAI(model="fake", base_url=fake_llm.openai_base_url, api_key="test")
    number = lambda docs: "\n".join(  # noqa: E731
        f"[{i}] {d.metadata['speaker']}: {d.page_content}" for i, d in enumerate(docs, 1))
    chain = ({"docs": store.as_retriever(search_kwargs={"k": 4}),
              "question": RunnablePassthrough()}
             | RunnablePassthrough.assign(sources=lambda x: number(x["docs"]))
             | RunnablePassthrough.assign(answer=prompt | model | StrOutputParser()))
    result = chain.invoke("Why do the Greens oppose the Mercosur beef quota?")
    cited = [int(n) for n in re.findall(r"\[(\d+)\]", result["answer"])]
    assert cited, result["answer"]
    assert [result["docs"][n - 1].metadata["speech_id"] for n in cited] == ["t-003"]
