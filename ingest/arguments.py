"""What is extracted from a speech: claims with verbatim quotes, stance, topics.

``Extraction`` is what a provider returns (validated pydantic, lenient on labels it can map);
``SpeechArguments`` is what is stored once every quote has been located in the speech
(``ingest.quotes``): claims carry exact character offsets into the debate markdown.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

__all__ = ["TOPICS", "STANCES", "ARGUMENT_TYPES", "ClaimOut", "Extraction", "VerifiedClaim",
           "SpeechArguments"]

# The controlled topic list, with the descriptions the heuristic embeds (and the README lists).
TOPICS: dict[str, str] = {
    "climate": "climate change, emissions, greenhouse gases, carbon, Green Deal, biodiversity",
    "migration": "migration, asylum, refugees, borders, Frontex, returns, smuggling",
    "trade": "trade agreements, tariffs, exports, imports, customs, WTO, Mercosur",
    "digital": "digital services, platforms, artificial intelligence, data, online content",
    "rule of law": "rule of law, judicial independence, corruption, Article 7, democracy",
    "agriculture": "farmers, agriculture, CAP, food production, fisheries, rural areas",
    "energy": "energy prices, electricity, gas, renewables, nuclear, energy security",
    "foreign affairs": "foreign policy, Ukraine, Russia, China, sanctions, diplomacy",
    "security and defence": "defence, military, weapons, security, terrorism, NATO",
    "budget": "EU budget, multiannual financial framework, recovery fund, own resources",
    "health": "health, medicines, pandemics, hospitals, public health",
    "social": "workers, jobs, wages, social rights, poverty, housing, equality",
    "institutional": "treaties, institutions, procedures, elections, transparency",
    "other": "anything else",
}
STANCES = ("for", "against", "mixed", "neutral", "procedural")
ARGUMENT_TYPES = ("statistics", "legal", "moral", "economic", "anecdote", "authority")

Stance = Literal["for", "against", "mixed", "neutral", "procedural"]


class ClaimOut(BaseModel):
    claim: str = Field(description="the claim as a short English paraphrase")
    quote: str = Field(description="verbatim supporting quote from the speech, its language")


class Extraction(BaseModel):
    """A provider's reply for one speech (before the quotes are verified)."""

    claims: list[ClaimOut] = Field(default_factory=list, max_length=8)
    stance: Stance
    topics: list[str] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)
    argument_types: list[str] = Field(default_factory=list)
    targets: list[str] = Field(default_factory=list)

    @field_validator("stance", mode="before")
    @classmethod
    def _stance(cls, value: Any) -> Any:
        return str(value).strip().lower() if value is not None else value

    @field_validator("topics", mode="after")
    @classmethod
    def _topics(cls, value: list[str]) -> list[str]:
        """Labels outside the controlled list become ``other``; at most 3."""
        out = []
        for item in value:
            label = item.strip().lower().replace("_", " ")
            label = label if label in TOPICS else "other"
            if label not in out:
                out.append(label)
        return out[:3] or ["other"]

    @field_validator("argument_types", mode="after")
    @classmethod
    def _types(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(v.strip().lower() for v in value
                                  if v.strip().lower() in ARGUMENT_TYPES))


@dataclass(frozen=True)
class VerifiedClaim:
    claim: str
    quote: str  # exactly markdown[char_start:char_end]
    char_start: int  # in the debate markdown, like citations
    char_end: int
    match: str  # exact | normalised | fuzzy
    score: float


@dataclass(frozen=True)
class SpeechArguments:
    speech_id: str
    debate_id: str
    provider: str
    prompt_version: str
    status: str  # ok | failed
    stance: str = ""
    topics: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    argument_types: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()
    claims: tuple[VerifiedClaim, ...] = ()
    quotes_dropped: int = 0
    failure: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("extra")
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SpeechArguments:
        data = dict(data)
        data["claims"] = tuple(VerifiedClaim(**c) for c in data.get("claims", ()))
        for key in ("topics", "keywords", "argument_types", "targets"):
            data[key] = tuple(data.get(key, ()))
        data.pop("extra", None)
        return cls(**data)

    def chunk_metadata(self) -> dict[str, str | bool]:
        """Flat scalar metadata set on every chunk of the speech (Chroma and the mirror)."""
        meta: dict[str, str | bool] = {"stance": self.stance, "topics": "|".join(self.topics),
                                       "arg_provider": self.provider}
        for topic in self.topics:
            meta["topic_" + topic.replace(" ", "_")] = True
        return meta

    def claims_json(self) -> str:
        return json.dumps([asdict(c) for c in self.claims], ensure_ascii=False)
