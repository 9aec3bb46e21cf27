"""Enrichment: every speech's claims, stance and topics, with verified quotes.

``make_extractor`` picks the provider (``heuristic``, ``groq:MODEL``, ``openai:MODEL@URL``);
``enrich`` runs it over a selection of indexed speeches: quotes are located in the speech
(``ingest.quotes``) and given offsets into the debate markdown, results are stored speech by
speech (``ArgumentStore``: resumable, a re-run does no new work), one speech's failure is
recorded and never stops the run, a used-up daily quota stops it cleanly, and the stance,
topics and provider are set on the speech's chunks in Chroma.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from .argstore import ArgumentStore
from .arguments import ClaimOut, Extraction, SpeechArguments, VerifiedClaim
from .errors import ConfigError, ProviderError, QuotaExhausted
from .quotes import locate, split_parts
from .ratelimit import default_limits
from .schema import Speech, normalize_party
from .settings import Settings

__all__ = ["Extractor", "LLMExtractor", "EnrichReport", "make_extractor", "default_provider",
           "select_speeches", "estimate", "extract_speech", "enrich", "apply_to_chroma",
           "MAX_PART_CHARS"]

MAX_PART_CHARS = 9_000  # ~2,500 tokens: a part, the prompt and the reply fit a 6k TPM budget
DEFAULT_GROQ_ENRICH_MODEL = "llama-3.1-8b-instant"
REPLY_TOKENS = 350  # typical reply size, for the estimate


class Extractor(Protocol):
    name: str
    prompt_version: str

    def extract(self, speech: Speech) -> Extraction: ...


class LLMExtractor:
    """Extraction with an LLM through ``LLMClient.complete_json`` (cached, rate-limited)."""

    def __init__(self, client: Any) -> None:
        from .prompts import ARGUMENTS_PROMPT_VERSION

        self.client = client
        self.name = client.spec.name
        self.prompt_version = ARGUMENTS_PROMPT_VERSION

    def messages(self, speech: Speech) -> list[list[Any]]:
        from .prompts import arguments_messages

        parts = split_parts(speech.text, MAX_PART_CHARS)
        return [arguments_messages(speech.debate_title, speech.speaker, speech.party,
                                   speech.text[a:b],
                                   f"part {i + 1} of {len(parts)}" if len(parts) > 1 else "")
                for i, (a, b) in enumerate(parts)]

    def extract(self, speech: Speech) -> Extraction:
        from .arguments import Extraction as Model

        results = [self.client.complete_json(m, Model, prompt_version=self.prompt_version)
                   for m in self.messages(speech)]
        return _merge(results)


def _merge(results: Sequence[Extraction]) -> Extraction:
    if len(results) == 1:
        return results[0]
    stances = {r.stance for r in results if r.stance not in ("neutral", "procedural")}
    stance = stances.pop() if len(stances) == 1 else "mixed" if stances else results[0].stance
    topics = Counter(t for r in results for t in r.topics)
    claims = [c for r in results for c in r.claims]
    return Extraction(claims=claims[:8], stance=stance,
                      topics=[t for t, _ in topics.most_common(3)],
                      keywords=list(dict.fromkeys(k for r in results for k in r.keywords))[:5],
                      argument_types=list(dict.fromkeys(a for r in results
                                                        for a in r.argument_types)),
                      targets=list(dict.fromkeys(t for r in results for t in r.targets))[:5])


def default_provider(settings: Settings) -> str:
    if settings.enrich_provider:
        return settings.enrich_provider
    return f"groq:{DEFAULT_GROQ_ENRICH_MODEL}" if settings.groq_api_key is not None \
        else "heuristic"


def make_extractor(spec: str | None, settings: Settings, embedder: Any) -> Extractor:
    spec = (spec or default_provider(settings)).strip()
    if spec == "heuristic":
        from .heuristic import HeuristicExtractor

        return HeuristicExtractor(embedder)
    if spec.partition(":")[0] in ("groq", "openai"):
        from .llm import LLMClient, parse_spec

        return LLMExtractor(LLMClient(parse_spec(spec, settings), settings))
    raise ConfigError(f"unknown provider {spec!r}; use heuristic, groq:MODEL or "
                      "openai:MODEL@BASE_URL")


@dataclass
class EnrichReport:
    provider: str = ""
    selected: int = 0
    enriched: int = 0
    unchanged: int = 0  # already stored for this text, provider and prompt version
    cached: int = 0  # answered from the LLM cache (no request)
    failed: Counter[str] = field(default_factory=Counter)
    quotes: Counter[str] = field(default_factory=Counter)  # verified / repaired / dropped
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    rate_limited: int = 0
    seconds: float = 0.0
    stopped: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"provider": self.provider, "selected": self.selected, "enriched": self.enriched,
                "unchanged": self.unchanged, "cached": self.cached, "failed": dict(self.failed),
                "quotes": {k: self.quotes[k] for k in ("verified", "repaired", "dropped")},
                "requests": self.requests, "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens, "rate_limited": self.rate_limited,
                "seconds": round(self.seconds, 2), "stopped": self.stopped}

    def summary_lines(self) -> list[str]:
        failed = ", ".join(f"{n} {r}" for r, n in self.failed.most_common()) or "none"
        q = self.quotes
        lines = [f"provider: {self.provider}; speeches selected: {self.selected}",
                 f"enriched: {self.enriched}; already done: {self.unchanged}; from cache: "
                 f"{self.cached}; failed: {sum(self.failed.values())} ({failed})",
                 f"quotes: {q['verified']} verified ({q['repaired']} repaired to the exact "
                 f"text), {q['dropped']} dropped (not in the speech)",
                 f"requests: {self.requests} ({self.rate_limited} rate-limited); tokens: "
                 f"{self.prompt_tokens} in, {self.completion_tokens} out; "
                 f"time: {self.seconds:.1f} s"]
        if self.stopped:
            lines.append(f"stopped: {self.stopped}")
        return lines


def select_speeches(manifest: Any, debates: Iterable[str] = (), parties: Iterable[str] = (),
                    limit: int | None = None) -> list[tuple[Speech, str, int]]:
    """Indexed speeches (with their content key and span start in the debate markdown), in
    debate and speaking order, filtered by debate (id or title substring) and group."""
    import json

    wanted = [d.strip().lower() for d in debates if d.strip()]
    groups = {normalize_party(p) for p in parties if p.strip()}
    out = []
    for body, key, start in manifest.db.execute(
            "SELECT s.body, s.content_key, s.span_start FROM speeches s JOIN debates d "
            "USING(debate_id) WHERE s.span_start IS NOT NULL AND s.chunked_key = s.content_key "
            "ORDER BY d.date, s.debate_id, s.seq"):
        speech = Speech(**json.loads(body))
        if wanted and not any(w == speech.debate_id.lower() or w in speech.debate_title.lower()
                              for w in wanted):
            continue
        if groups and speech.party not in groups:
            continue
        out.append((speech, key, int(start)))
        if limit and len(out) >= limit:
            break
    return out


def estimate(speeches: Sequence[tuple[Speech, str, int]], extractor: Extractor,
             settings: Settings) -> dict[str, Any]:
    """Speeches, requests, input/output tokens and minutes at the configured rate limits."""
    from .llm import estimate_tokens

    if not isinstance(extractor, LLMExtractor):
        return {"speeches": len(speeches), "requests": 0, "input_tokens": 0,
                "output_tokens": 0, "minutes": 0.0}
    requests = tokens_in = 0
    for speech, _, _ in speeches:
        for messages in extractor.messages(speech):
            requests += 1
            tokens_in += int(estimate_tokens(messages) * 0.8)  # ~3.7 characters a token
    tokens_out = requests * REPLY_TOKENS
    spec = extractor.client.spec
    limits = default_limits(spec.provider, spec.model, settings.llm_rpm, settings.llm_tpm)
    minutes = max(requests / limits.rpm if limits.rpm else 0.0,
                  (tokens_in + tokens_out) / limits.tpm if limits.tpm else 0.0)
    return {"speeches": len(speeches), "requests": requests, "input_tokens": tokens_in,
            "output_tokens": tokens_out, "minutes": round(minutes, 1),
            "limits": {"rpm": limits.rpm, "tpm": limits.tpm}}


def _verify(claims: Sequence[ClaimOut], text: str, offset: int
            ) -> tuple[list[VerifiedClaim], Counter[str]]:
    counts: Counter[str] = Counter()
    out: list[VerifiedClaim] = []
    seen: set[tuple[int, int]] = set()
    for claim in claims:
        found = locate(claim.quote, text)
        if found is None or (found.start, found.end) in seen:
            counts["dropped"] += 1
            continue
        seen.add((found.start, found.end))
        counts["verified"] += 1
        if found.match != "exact":
            counts["repaired"] += 1
        out.append(VerifiedClaim(claim.claim.strip(), text[found.start:found.end],
                                 offset + found.start, offset + found.end, found.match,
                                 found.score))
    return out[:5], counts


def extract_speech(extractor: Extractor, speech: Speech, span_start: int
                   ) -> tuple[SpeechArguments, Counter[str]]:
    """One speech: extract, verify quotes; a provider failure becomes a failed record
    (``QuotaExhausted`` and ``ConfigError`` propagate: they stop the run)."""
    base = dict(speech_id=speech.speech_id, debate_id=speech.debate_id,
                provider=extractor.name, prompt_version=extractor.prompt_version)
    try:
        extraction = extractor.extract(speech)
    except QuotaExhausted:
        raise
    except ProviderError as exc:
        return SpeechArguments(**base, status="failed", failure=exc.reason), Counter()
    claims, counts = _verify(extraction.claims, speech.text, span_start)
    return SpeechArguments(
        **base, status="ok", stance=extraction.stance, topics=tuple(extraction.topics),
        keywords=tuple(extraction.keywords[:5]), argument_types=tuple(extraction.argument_types),
        targets=tuple(extraction.targets[:5]), claims=tuple(claims),
        quotes_dropped=counts["dropped"]), counts


def enrich(extractor: Extractor, speeches: Sequence[tuple[Speech, str, int]],
           store: ArgumentStore, progress: Callable[[Iterable[Any]], Iterable[Any]] = iter,
           chroma: Any = None, manifest: Any = None) -> EnrichReport:
    """Run ``extractor`` over ``speeches``, storing each result as it comes."""
    report = EnrichReport(provider=extractor.name, selected=len(speeches))
    started = time.perf_counter()
    stats = getattr(getattr(extractor, "client", None), "stats", None)
    try:
        for speech, key, start in progress(speeches):
            if store.is_current(speech.speech_id, key, extractor.name, extractor.prompt_version):
                report.unchanged += 1
                continue
            before = stats.to_dict() if stats else {}
            try:
                result, counts = extract_speech(extractor, speech, start)
            except QuotaExhausted as exc:
                report.stopped = str(exc)
                break
            store.put(result, key)
            report.quotes.update(counts)
            after = stats.to_dict() if stats else {}
            if result.status != "ok":
                report.failed[result.failure] += 1
            elif stats and after["requests"] == before["requests"] and after["cached"] > \
                    before["cached"]:
                report.cached += 1
            else:
                report.enriched += 1
    finally:
        if stats:
            report.requests, report.rate_limited = stats.requests, stats.rate_limited
            report.prompt_tokens = stats.prompt_tokens
            report.completion_tokens = stats.completion_tokens
        if chroma is not None and manifest is not None:
            apply_to_chroma(store, chroma, manifest, [s.speech_id for s, _, _ in speeches])
        report.seconds = time.perf_counter() - started
    return report


def apply_to_chroma(store: ArgumentStore, chroma: Any, manifest: Any,
                    speech_ids: Sequence[str]) -> int:
    """Set stance, topics and provider on every chunk of the given (enriched) speeches."""
    labels = store.labels()
    ids: list[str] = []
    metas: list[dict[str, Any]] = []
    for sid in speech_ids:
        args = store.get(sid) if sid in labels else None
        if args is None:
            continue
        extra = args.chunk_metadata()
        for cid, *_ in manifest.speech_chunks(sid):
            ids.append(cid)
            metas.append(extra)
    for i in range(0, len(ids), 2000):
        part = ids[i: i + 2000]
        got = chroma.get(ids=part, include=["metadatas"])
        current = dict(zip(got["ids"], got["metadatas"]))
        merged = []
        keep = []
        for cid, extra in zip(part, metas[i: i + 2000]):
            if cid in current:
                old = {k: v for k, v in (current[cid] or {}).items()
                       if not k.startswith("topic_")}
                merged.append({**old, **extra})
                keep.append(cid)
        if keep:
            chroma.update(ids=keep, metadatas=merged)
    return len(ids)
