"""The corpus map: sampling, projection, cache, clusters, query placement, figure, export,
and the Explore page with AppTest.  One real ingest of the sample corpus per module."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from conftest import SAMPLE, TINY, run_cli, write_jsonl
from fake_llm import Reply, Status
from ingest.pipeline import ingest_paths
from ingest.settings import Settings
from ingest.store import open_client
from rag.cluster_names import cluster_namer, name_clusters
from rag.clusters import label_clusters
from rag.explore import MapSpec, build_map, color_value, map_cache_dir, place_query, sample_items
from rag.index import CorpusIndex
from rag.retriever import Retriever
from ui.explore_plot import export_map, map_figure, selected_points, selection_rows
from ui.services import Services

APP = str(Path(__file__).resolve().parents[1] / "ui" / "app.py")
PCA = MapSpec(method="pca")


@pytest.fixture(scope="module")
def home(tmp_path_factory, embedder) -> Path:
    """A third of the sample corpus (its shorter speeches): all 12 debates, 30 chunks."""
    folder = tmp_path_factory.mktemp("explore")
    records = [json.loads(line) for line in SAMPLE.read_text("utf-8").splitlines()]
    corpus = write_jsonl(folder / "in" / "third.jsonl",
                         [r for r in records[::3] if len(r["text"]) < 1500])
    settings = Settings(home=folder / "home")
    ingest_paths(settings, [corpus], embedder, open_client(settings), show_progress=False)
    return settings.home


@pytest.fixture(scope="module")
def index(home) -> CorpusIndex:
    settings = Settings(home=home)
    return CorpusIndex.load(settings, open_client(settings))


@pytest.fixture(scope="module")
def pca_map(index):
    return build_map(index, PCA, None)


def test_tsne_is_deterministic_with_a_fixed_seed(index, embedder):
    spec = MapSpec(sample=20, perplexity=5)
    first, again = build_map(index, spec, None), build_map(index, spec, None)
    assert first.rows == again.rows and len(first) == 20
    assert np.array_equal(first.coords, again.coords)
    other = build_map(index, MapSpec(sample=20, perplexity=5, seed=7), None)
    assert other.rows != first.rows  # another seed, another sample and picture
    # the query is placed with openTSNE's transform, next to the passages retrieval returns
    retriever = Retriever(index, embedder)
    placement = place_query(first, index, retriever, "beef quota deforestation Mercosur", k=5)
    distances = np.linalg.norm(first.coords - np.array(placement.xy), axis=1)
    hits = [p for p in placement.hit_points if p >= 0]
    assert hits and distances[hits].min() < np.median(distances)


def test_sample_is_stratified_by_debate(index):
    spec = MapSpec(method="pca", sample=18)
    items = sample_items(index, spec)
    assert len(items) == 18 and len(set(items)) == 18
    debates = [index.debate_code[rows[0]] for rows in items]
    assert len(set(debates)) == len(index.debate_ids) == 12  # every debate keeps a point
    sizes = np.bincount(index.debate_code)  # and about its share of the sample
    assert np.abs(np.bincount(debates) - sizes * 18 / sizes.sum()).max() < 1.5
    speeches = sample_items(index, MapSpec(method="pca", sample=15, unit="speech"))
    assert len(speeches) == 15
    for rows in speeches:  # a speech point holds exactly its own chunks
        assert len({index.records[r].speech_id for r in rows}) == 1
        assert len(rows) == sum(r.speech_id == index.records[rows[0]].speech_id
                                for r in index.records)


def test_map_is_cached_and_an_ingest_invalidates_it(settings, embedder, tiny_corpus, tmp_path):
    client = open_client(settings)
    ingest_paths(settings, [tiny_corpus], embedder, client)
    index = CorpusIndex.load(settings, client)
    cache = map_cache_dir(settings)
    cold = build_map(index, PCA, cache)
    warm = build_map(index, PCA, cache)
    assert not cold.cached and warm.cached
    assert np.array_equal(cold.coords, warm.coords) and cold.rows == warm.rows
    more = write_jsonl(tmp_path / "in2" / "more.jsonl", [
        {**TINY[2], "id": "t-011", "text": "A new speech about fishing quotas in the Baltic."}])
    ingest_paths(settings, [more], embedder, client)
    index = CorpusIndex.load(settings, client)
    rebuilt = build_map(index, PCA, cache)
    assert not rebuilt.cached and len(rebuilt) == len(cold) + 1
    assert len(list(cache.glob("*.npz"))) == 1  # the stale map was removed


def test_point_colour_is_its_chunk_group(index, pca_map):
    fig = map_figure(pca_map, index, "party")
    groups = {color_value(pca_map.record(index, i), "party") for i in range(len(pca_map))}
    assert sorted(t.name for t in fig.data) == sorted(html.escape(g) for g in groups)
    colours = set()
    for trace in fig.data:
        colours.add(trace.marker.color)
        for point in trace.customdata:
            assert html.escape(pca_map.record(index, point).party or "—") == trace.name
    assert len(colours) == len(fig.data)
    assert sum(len(t.customdata) for t in fig.data) == len(pca_map)


def test_query_highlights_are_the_top_search_results(index, pca_map, embedder):
    retriever = Retriever(index, embedder)
    query = "What did the Greens say about deforestation and the beef quota?"
    placement = place_query(pca_map, index, retriever, query, k=6)
    expected = [h.record.chunk_id for h in retriever.search(query, k=6)]
    assert [h.record.chunk_id for h in placement.hits] == expected
    fig = map_figure(pca_map, index, "party", placement=placement)
    ringed = next(t for t in fig.data if t.name == "Retrieved")
    for point, chunk_id, x in zip(ringed.customdata, expected, ringed.x):
        assert point >= 0  # PCA samples everything here: every hit is a point of the map
        assert pca_map.record(index, point).chunk_id == chunk_id
        assert x == pytest.approx(float(pca_map.coords[point, 0]))
    assert next(t for t in fig.data if t.name == "Query").x[0] == pytest.approx(placement.xy[0])


def test_cluster_labels_are_words_of_their_clusters(index, pca_map):
    texts = [pca_map.record(index, i).text for i in range(len(pca_map))]
    labels, clusters = label_clusters(pca_map.coords, texts)
    assert len(clusters) >= 2
    for cluster in clusters:
        members = " ".join(t.lower() for t, l in zip(texts, labels) if l == cluster.label)
        assert cluster.words and all(word in members for word in cluster.words)
    assert len({c.words for c in clusters}) == len(clusters)  # distinctive, not shared


def _names_from_prompt(body: dict) -> str:
    """The fake LLM names each cluster id it was shown: 'Topic <id> from <first word>'."""
    prompt = body["messages"][-1]["content"]
    shown = re.findall(r'<cluster id="(\d+)">\nwords: (\w+)', prompt)
    return json.dumps({"names": [{"cluster": int(c), "name": f"Topic {c} from {w}"}
                                 for c, w in shown]})


def test_llm_cluster_names_are_cached_and_fall_back_to_words(index, pca_map, fake_llm,
                                                             tmp_path):
    texts = [pca_map.record(index, i).text for i in range(len(pca_map))]
    labels, clusters = label_clusters(pca_map.coords, texts)
    spec = f"openai:namer@{fake_llm.openai_base_url}"
    settings = Settings(home=tmp_path / "home", openai_api_key="k", llm_max_retries=1,
                        llm_timeout_s=5)
    fake_llm.responder = _names_from_prompt
    named, warning = name_clusters(clusters, labels, pca_map.coords, texts,
                                   cluster_namer(spec, settings))
    assert warning is None and len(fake_llm.completions) == 1  # one request for the map
    prompt = fake_llm.completions[0].body["messages"][-1]["content"]
    for before, after in zip(clusters, named):
        assert after.words[0] in prompt  # the distinctive words went in
        first = re.search(rf'<cluster id="{after.label}">\nwords: (\w+)', prompt).group(1)
        assert after.name == f"Topic {after.label} from {first}"
        assert (after.label, after.x, after.y, after.words) == (
            before.label, before.x, before.y, before.words)
    # the same map named again (a new client, as a new process would): cached, zero requests
    again, _ = name_clusters(clusters, labels, pca_map.coords, texts,
                             cluster_namer(spec, settings))
    assert [c.name for c in again] == [c.name for c in named]
    assert len(fake_llm.completions) == 1
    # a provider failing after the retries, or names that never validate: the word labels
    cold = Settings(home=tmp_path / "other", openai_api_key="k", llm_max_retries=1,
                    llm_timeout_s=5)
    fake_llm.script(Status(503), Status(503))
    kept, warning = name_clusters(clusters, labels, pca_map.coords, texts,
                                  cluster_namer(spec, cold))
    assert [c.name for c in kept] == [" · ".join(c.words) for c in clusters]
    assert "HTTP 503" in warning and "\n" not in warning
    too_long = json.dumps({"names": [{"cluster": c.label, "name": "far too many words for "
                                      "a short cluster name"} for c in clusters]})
    fake_llm.script(Reply(too_long), Reply(too_long))
    kept, warning = name_clusters(clusters, labels, pca_map.coords, texts,
                                  cluster_namer(spec, cold))
    assert [c.name for c in kept] == [" · ".join(c.words) for c in clusters]
    assert "not a valid ClusterNames" in warning and len(fake_llm.completions) == 5


def test_explore_cli_warns_in_one_line_when_naming_fails(home, fake_llm, tmp_path):
    env = {"HEMICYCLE_HOME": str(home), "HEMICYCLE_OPENAI_API_KEY": "k",
           "HEMICYCLE_LLM_MAX_RETRIES": "0",
           "HEMICYCLE_EXPLORE_NAMER": f"openai:namer@{fake_llm.openai_base_url}"}
    fake_llm.script(Status(500))
    proc = run_cli("explore", "--out", str(tmp_path / "m.html"), "--method", "pca", "--json",
                   env=env)
    assert proc.returncode == 0, proc.stderr
    warning, = proc.stderr.strip().splitlines()
    assert warning.startswith("hemicycle: warning: cluster names by openai:namer@") and \
        "HTTP 500" in warning
    words = json.loads(proc.stdout)["clusters"]  # the word labels, as without an LLM
    assert words and all(" · " in name for name in words)


def test_selection_table_lists_exactly_the_selected_points(index, pca_map):
    fig = map_figure(pca_map, index, "party")
    picked = [(c, int(fig.data[c].customdata[-1])) for c in (2, 0, 1)]
    event = {"selection": {"points": [{"curve_number": c, "point_index": 0, "customdata": p}
                                      for c, p in picked], "box": [], "lasso": []}}
    points = selected_points(event)
    assert points == sorted(p for _, p in picked)
    rows = selection_rows(pca_map, index, points)
    assert [row["point"] for row in rows] == points
    for row in rows:
        record = pca_map.record(index, row["point"])
        assert (row["speaker"], row["date"], row["debate"]) == (
            record.speaker, record.date, record.debate_title)


def test_html_export_contains_every_sampled_point(settings, embedder, tmp_path):
    nasty = {**TINY[3], "id": "t-099", "speaker_name": "<img src=x onerror=alert(1)>",
             "text": "</script><script>alert('map')</script> Social dumping must end."}
    corpus = write_jsonl(tmp_path / "in" / "nasty.jsonl", TINY + [nasty])
    services = Services(settings)
    services.ingest([corpus], show_progress=False)
    out = tmp_path / "map.html"
    result = export_map(services, out, PCA, "party", query="social dumping", k=3)
    page = out.read_text("utf-8")
    start = page.index("Plotly.newPlot(")
    data, _ = json.JSONDecoder().raw_decode(page, page.index("[", start))
    drawn = {p for trace in data if trace["name"] not in ("Query", "Retrieved")
             for p in trace["customdata"]}
    assert drawn == set(range(result["points"])) and result["points"] == len(services.index())
    assert "<img src=x" not in page and "<script>alert" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_explore_cli_rejects_bad_input_in_one_line(tmp_path):
    proc = run_cli("explore", "--out", str(tmp_path / "m.html"), "--method", "umap")
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        "hemicycle: error: unknown projection 'umap'; choose one of tsne, pca"]


def test_explore_page_draws_one_trace_per_group(home, index, monkeypatch, fake_llm):
    monkeypatch.setenv("HEMICYCLE_HOME", str(home))
    monkeypatch.setenv("HEMICYCLE_OPENAI_API_KEY", "k")
    monkeypatch.setenv("HEMICYCLE_EXPLORE_NAMER", f"openai:page@{fake_llm.openai_base_url}")
    fake_llm.responder = _names_from_prompt
    at = AppTest.from_file(APP, default_timeout=240)
    at.run()
    at.switch_page("pages/explore.py").run()
    assert not at.exception
    at.sidebar.radio(key="explore_method").set_value("pca").run()
    assert not at.exception

    def figure() -> dict:
        return json.loads(at.get("plotly_chart")[0].proto.spec)

    groups = {r.party or "—" for r in index.records}
    assert sorted(t["name"] for t in figure()["data"]) == sorted(html.escape(g) for g in groups)
    assert at.sidebar.selectbox(key="explore_color").options == [
        "Political group", "Debate", "Speaker", "Year", "Language"]  # no arguments extracted
    # clusters named by the configured LLM (the checkbox is on when HEMICYCLE_EXPLORE_NAMER is)
    assert at.sidebar.checkbox(key="explore_llm_names").value
    names = [a["text"] for a in figure()["layout"]["annotations"]]
    assert names and all(re.fullmatch(r"Topic \d+ from \w+", n) for n in names)
    at.sidebar.checkbox(key="explore_llm_names").uncheck().run()
    assert all(" · " in a["text"] for a in figure()["layout"]["annotations"])
    at.text_input(key="explore_query").set_value("beef quota deforestation").run()
    names = [t["name"] for t in figure()["data"]]
    assert names[-2:] == ["Retrieved", "Query"]
    assert any(m.value.startswith("**[1] ") for m in at.markdown)
    assert at.get("plotly_chart")[1]  # the group positions view
