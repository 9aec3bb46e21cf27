"""The one metadata schema shared by ingest, retrieval, the UI and evaluation.

A ``Speech`` is one intervention in one debate; a ``Chunk`` is a piece of one speech
(chunks never span two speeches).  ``chunk_metadata`` is exactly what is stored
in Chroma next to each chunk, so filters written against these keys work everywhere.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import asdict, dataclass

__all__ = [
    "Speech",
    "Chunk",
    "PARTY_ALIASES",
    "normalize_party",
    "debate_id_for",
    "chunk_id_for",
    "content_hash",
    "chunk_metadata",
    "METADATA_KEYS",
]

# Group labels as printed by the CRE (French acronyms) and older names, mapped to one label.
PARTY_ALIASES: dict[str, str] = {
    "ppe": "EPP",
    "epp": "EPP",
    "s&d": "S&D",
    "s-d": "S&D",
    "sd": "S&D",
    "renew": "Renew",
    "alde": "Renew",
    "verts/ale": "Greens/EFA",
    "greens/efa": "Greens/EFA",
    "greens": "Greens/EFA",
    "ecr": "ECR",
    "id": "ID",
    "enf": "ID",
    "pfe": "PfE",
    "esn": "ESN",
    "the left": "The Left",
    "gue/ngl": "The Left",
    "left": "The Left",
    "ni": "NI",
    "efdd": "EFDD",
}


def normalize_party(raw: str | None) -> str:
    """Map a group label to its canonical form; empty stays empty (chair, Commission, Council)."""
    label = (raw or "").strip()
    if not label:
        return ""
    return PARTY_ALIASES.get(label.lower(), label)


@dataclass(frozen=True)
class Speech:
    speech_id: str
    debate_id: str
    debate_title: str
    date: str  # ISO YYYY-MM-DD
    year: int
    speaker: str
    party: str
    role: str
    language: str
    text: str
    translated: bool = False
    source: str = ""  # the file the speech was read from, and its position there
    position: int = 0

    def content_key(self) -> str:
        """Hash of everything that ends up in the index: a change means re-chunking."""
        fields = (self.debate_id, self.debate_title, self.date, self.speaker, self.party,
                  self.role, self.language, self.text)
        return content_hash("\x1f".join(fields))


@dataclass(frozen=True)
class Chunk:
    chunk_id: str
    speech_id: str
    debate_id: str
    debate_title: str
    date: str
    year: int
    speaker: str
    party: str
    role: str
    language: str
    chunk_index: int
    char_start: int  # in the debate markdown file
    char_end: int
    text: str


METADATA_KEYS = (
    "speech_id", "debate_id", "debate_title", "date", "year", "speaker", "party", "role",
    "language", "chunk_index", "char_start", "char_end",
)


def chunk_metadata(chunk: Chunk) -> dict[str, str | int]:
    """Metadata stored with a chunk in Chroma (all scalar, as Chroma requires)."""
    data = asdict(chunk)
    meta = {key: data[key] for key in METADATA_KEYS}
    meta["date_int"] = int(chunk.date.replace("-", ""))  # for numeric range filters
    return meta


def content_hash(text: str, size: int = 16) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=size).hexdigest()


def _slug(text: str, limit: int = 60) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:limit].rstrip("-") or "debate"


def debate_id_for(date: str, title: str) -> str:
    """Readable and stable: ``2021-03-10-eu-mercosur-trade-agreement-1a2b3c4d``."""
    return f"{date}-{_slug(title)}-{content_hash(date + '|' + title.strip(), 4)}"


def chunk_id_for(speech_id: str, index: int, text: str) -> str:
    """Deterministic: the same speech, position and content always give the same id."""
    return f"{speech_id}#{index}-{content_hash(f'{speech_id}|{index}|{text}', 6)}"
