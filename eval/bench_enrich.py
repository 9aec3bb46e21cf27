"""``hemicycle bench enrich``: what enrichment costs.

1. The offline ``heuristic`` extractor on real speeches (``../shared/corpora``, or the
   given JSONL): speeches per second, quotes verified / dropped.
2. An LLM provider against the local fake OpenAI/Groq-compatible server (``tests/fake_llm.py``)
   with its rate limits set to Groq's free tier for ``llama-3.1-8b-instant`` (30 requests/min,
   6,000 tokens/min), real speeches as input, for a fixed wall time: the achieved
   requests/min and tokens/min as a share of the limits, and the 429s the server had to send
   (the client's limiter should cause none).  The first minute can burst a full window, so
   the share is also given for the steady state (requests after the first minute).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ingest.settings import Settings

__all__ = ["run_enrich_benchmark", "DEFAULT_REAL"]

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_REAL = ROOT.parent / "shared" / "corpora" / "ep-cre-10-dev.jsonl"


def _speeches(path: Path, limit: int, min_words: int = 60) -> list[Any]:
    from ingest.records import to_speech

    out = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            try:
                speech = to_speech(json.loads(line), 100_000)
            except ValueError:
                continue
            if speech.party and len(speech.text.split()) >= min_words:
                out.append(speech)
            if len(out) >= limit:
                break
    return out


def _heuristic(settings: Settings, speeches: list[Any]) -> dict[str, Any]:
    from collections import Counter

    from ingest.embedder import Embedder
    from ingest.enrich import extract_speech
    from ingest.heuristic import HeuristicExtractor

    extractor = HeuristicExtractor(Embedder(settings.embedding_model, settings.embedding_device,
                                            settings.embedding_batch_size))
    extract_speech(extractor, speeches[0], 0)  # load the model outside the timing
    quotes: Counter[str] = Counter()
    stances: Counter[str] = Counter()
    started = time.perf_counter()
    for speech in speeches:
        args, counts = extract_speech(extractor, speech, 0)
        quotes.update(counts)
        stances[args.stance] += 1
    seconds = time.perf_counter() - started
    return {"heuristic_speeches": len(speeches), "heuristic_seconds": round(seconds, 1),
            "heuristic_speeches_per_s": round(len(speeches) / seconds, 2),
            "heuristic_quotes_verified": quotes["verified"],
            "heuristic_quotes_dropped": quotes["dropped"],
            "heuristic_stances": dict(stances)}


def _responder(body: dict[str, Any]) -> str:
    """A model that quotes the speech's first two sentences, as a real one would."""
    user = body["messages"][-1]["content"]
    text = user.split("<speech>", 1)[-1].rsplit("</speech>", 1)[0]
    sentences = [s.strip() for s in text.replace("\n", " ").split(". ") if len(s.split()) > 5]
    claims = [{"claim": "A point the speaker makes.", "quote": s} for s in sentences[:2]]
    return json.dumps({"claims": claims, "stance": "mixed", "topics": ["other"]})


def _rate_limited(speeches: list[Any], seconds: float, model: str, rpm: int,
                  tpm: int) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT / "tests"))
    from fake_llm import FakeLLM

    from ingest.argstore import ArgumentStore
    from ingest.enrich import LLMExtractor, enrich
    from ingest.llm import LLMClient, parse_spec

    fake = FakeLLM().start()
    fake.responder = _responder
    fake.limit(rpm, tpm, 60.0)
    try:
        with tempfile.TemporaryDirectory() as home:
            settings = Settings(home=Path(home), groq_api_key="bench", llm_rpm=rpm, llm_tpm=tpm,
                                groq_base_url=fake.base_url, llm_timeout_s=30)
            client = LLMClient(parse_spec(f"groq:{model}", settings), settings)
            store = ArgumentStore(Path(home) / "arguments.sqlite")
            started = time.time()
            deadline = started + seconds
            done = 0
            for speech in speeches:
                if time.time() >= deadline:
                    break
                enrich(LLMExtractor(client), [(speech, speech.speech_id, 0)], store)
                done += 1
            ended = time.time()
            store.close()
    finally:
        fake.stop()
    ok = [r for r in fake.completions]
    minutes = (ended - started) / 60
    tokens = client.stats.prompt_tokens + client.stats.completion_tokens
    steady = [r for r in ok if r.at >= started + 60]
    steady_minutes = max(1e-9, (ended - started - 60) / 60)
    steady_tokens = sum(_tokens(r) for r in steady)
    return {
        "llm_model_limits": f"groq:{model} {rpm} RPM / {tpm} TPM (free tier)",
        "llm_seconds": round(ended - started, 1), "llm_speeches": done,
        "llm_requests": len(ok), "llm_tokens": tokens,
        "llm_requests_per_min": round(len(ok) / minutes, 2),
        "llm_tokens_per_min": round(tokens / minutes, 1),
        "llm_share_of_rpm": round(len(ok) / minutes / rpm, 3),
        "llm_share_of_tpm": round(tokens / minutes / tpm, 3),
        "llm_steady_share_of_tpm": round(steady_tokens / steady_minutes / tpm, 3)
        if ended - started > 90 else None,
        "llm_429_from_server": fake.rate_limited,
    }


def _tokens(recorded: Any) -> int:
    from fake_llm import _prompt_tokens  # the server's own count

    return _prompt_tokens(recorded.body) + len(_responder(recorded.body).split())


def run_enrich_benchmark(settings: Settings, path: Path | None = None, limit: int = 200,
                         seconds: float = 150.0, model: str = "llama-3.1-8b-instant",
                         rpm: int = 30, tpm: int = 6_000) -> dict[str, Any]:
    from ingest.errors import InputError

    source = path or DEFAULT_REAL
    if not source.exists():
        raise InputError(f"{source}: not found (give a JSONL of speeches)")
    speeches = _speeches(source, limit)
    result: dict[str, Any] = {"input": str(source)}
    result.update(_heuristic(settings, speeches))
    if seconds > 0:
        result.update(_rate_limited(speeches, seconds, model, rpm, tpm))
    return result
