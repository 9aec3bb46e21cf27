"""Does quoting verified claims help the offline generator on "what did X argue" questions?

On the gold questions of kind ``stance`` (``data/eval/retrieval-gold.jsonl``), the
``extractive`` generator answers twice, without and with the claims of ``hemicycle enrich``;
for the sentences it quotes we count: the share from speeches graded 2 (they answer the
question), the share that is framing (the speech's first sentence, or one opening with a
form of address such as "Madam President"), and the words per quote.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

__all__ = ["compare_claim_answers"]

_QUOTE = re.compile(r"“(.+?)” \[(\d+)\]")
_ADDRESS = re.compile(r"^(?:madam|mr|mister|dear|honourable|ladies|colleagues)\b", re.I)


def _measure(assistant: Any, questions: list[Any], speeches: dict[str, str]) -> dict[str, Any]:
    quotes = relevant = framing = words = 0
    for q in questions:
        answer = assistant.ask(q.question, filters=q.search_filters())
        by_n = {c.n: c.speech_id for c in answer.citations}
        for text, n in _QUOTE.findall(answer.answer):
            sid = by_n.get(int(n), "")
            quotes += 1
            relevant += q.relevant.get(sid, 0) == 2
            body = speeches.get(sid, "").lstrip()
            framing += bool(_ADDRESS.match(text)) or body.startswith(text[:60])
            words += len(text.split())
    return {"quotes": quotes, "from_grade2_speech": round(relevant / max(quotes, 1), 3),
            "framing": round(framing / max(quotes, 1), 3),
            "words_per_quote": round(words / max(quotes, 1), 1)}


def compare_claim_answers(services: Any, gold: Path) -> dict[str, Any]:
    from eval.retrieval import load_gold
    from rag.assistant import Assistant
    from rag.extractive import ExtractiveGenerator
    from rag.generators import make_generator

    questions = [q for q in load_gold(gold) if q.kind == "stance"]
    index = services.index()
    speeches = {sid: s.text for sid, s in index.speeches.items()}
    retriever = services.retriever()
    s = services.settings
    plain = Assistant(retriever, ExtractiveGenerator(services.embedder), k=s.top_k,
                      mode=s.retriever, refusal_threshold=s.refusal_threshold)
    with_claims = Assistant(retriever, make_generator("extractive", s, services.embedder),
                            k=s.top_k, mode=s.retriever, refusal_threshold=s.refusal_threshold)
    return {"questions": len(questions),
            "without_claims": _measure(plain, questions, speeches),
            "with_claims": _measure(with_claims, questions, speeches)}
