"""Speaker-aware chunking: a chunk never spans two speeches and fits the embedder.

Lengths are counted in real word pieces with the embedder's own tokenizer (LangChain's
``RecursiveCharacterTextSplitter.from_huggingface_tokenizer``), with an overlap between
consecutive chunks of the same speech.
"""

from __future__ import annotations

from typing import Any

from .schema import Chunk, Speech, chunk_id_for

__all__ = ["SpeechChunker"]


class SpeechChunker:
    """Split speeches into ``Chunk`` objects whose spans point into the debate markdown."""

    def __init__(self, tokenizer: Any, chunk_tokens: int, overlap: int) -> None:
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        self.tokenizer = tokenizer
        self.splitter = RecursiveCharacterTextSplitter.from_huggingface_tokenizer(
            tokenizer,
            chunk_size=chunk_tokens,
            chunk_overlap=min(overlap, chunk_tokens // 2),
            separators=["\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " ", ""],
            keep_separator="end",
        )
        self.chunk_tokens = chunk_tokens

    def split(self, speech: Speech, span_start: int) -> list[Chunk]:
        text = speech.text
        if len(self.tokenizer.tokenize(text)) <= self.chunk_tokens:
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
