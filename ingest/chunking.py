"""Speaker-aware chunking: a chunk never spans two speeches and fits the embedder.

Lengths are counted in real word pieces of the embedder's own tokenizer, by LangChain's
``RecursiveCharacterTextSplitter`` (paragraphs, then sentences, then words), with an overlap
between consecutive chunks of the same speech.

The chunker counts with its own copy of the tokenizer: the encoder's tokenizer carries padding
and truncation state that ``SentenceTransformer.encode`` sets while it runs, and ingest encodes
one batch in a worker thread while it chunks the next, so sharing one would race.  Counting
goes straight to the Rust tokenizer (no Python wrapper), with a small cache because the
splitter measures the same pieces again when it merges them.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from .schema import Chunk, Speech, chunk_id_for

__all__ = ["SpeechChunker", "token_counter"]


def token_counter(tokenizer: Any) -> Any:
    """``count(text) -> int``: word pieces of ``text`` (no special tokens) with an independent
    copy of a Hugging Face fast tokenizer, padding and truncation off."""
    from tokenizers import Tokenizer

    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:  # a slow tokenizer: count through it (not shared with a thread here)
        return lambda text: len(tokenizer.tokenize(text))
    own = Tokenizer.from_str(backend.to_str())
    own.no_padding()
    own.no_truncation()

    @lru_cache(maxsize=8192)
    def count(text: str) -> int:
        return len(own.encode(text, add_special_tokens=False).ids)

    return count


class SpeechChunker:
    """Split speeches into ``Chunk`` objects whose spans point into the debate markdown."""

    def __init__(self, tokenizer: Any, chunk_tokens: int, overlap: int) -> None:
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        self.count = token_counter(tokenizer)
        self.splitter = RecursiveCharacterTextSplitter(
            chunk_size=chunk_tokens,
            chunk_overlap=min(overlap, chunk_tokens // 2),
            length_function=self.count,
            separators=["\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " ", ""],
            keep_separator="end",
        )
        self.chunk_tokens = chunk_tokens

    def split(self, speech: Speech, span_start: int) -> list[Chunk]:
        text = speech.text
        if self.count(text) <= self.chunk_tokens:
            pieces = [text]
        else:
            pieces = [p for p in self.splitter.split_text(text) if p.strip()]
        chunks: list[Chunk] = []
        cursor = 0
        for index, piece in enumerate(pieces):
            start = text.find(piece, cursor)
            if start < 0:  # the splitter only strips, so this cannot happen; keep it honest
                start = text.find(piece)
            cursor = start + 1
            chunks.append(Chunk(
                chunk_id=chunk_id_for(speech.speech_id, index, piece),
                speech_id=speech.speech_id, debate_id=speech.debate_id,
                debate_title=speech.debate_title, date=speech.date, year=speech.year,
                speaker=speech.speaker, party=speech.party, role=speech.role,
                language=speech.language, chunk_index=index,
                char_start=span_start + start, char_end=span_start + start + len(piece),
                text=piece,
            ))
        return chunks
