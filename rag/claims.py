"""What a quote may be: a sentence that says something, by a speaker who argues.

Speeches are full of sentences that answer nothing: the salutation that opens them, thanks,
procedural lines ("I give the floor…", "the vote will take place…"), framing ("Let me start
with the forest.", "I would like to say that…") and short slogans that carry no fact
("Tough times call for tough measures.").  :func:`claim_of` returns the quotable part of a
sentence (always an exact substring of it, so quotes stay verifiable) or ``None``.

The chair (President / Vice-President in the chair) runs the sitting; :func:`is_chair` tells
its remarks apart so they are never cited for substance.
"""

from __future__ import annotations

import re

from .lexical import tokenize

__all__ = ["MIN_WORDS", "MIN_TERMS", "claim_of", "content_terms", "is_chair", "trim_salutation"]

MIN_WORDS = 5  # a quote shorter than this is a fragment
MIN_TERMS = 3  # distinct content words (stemmed, no stop words) a claim must carry

_ADDRESS = (r"(?:Madam|Mr|Mister)\s+(?:President|Vice-President|Chair(?:man|woman)?)|"
            r"(?:Madam|Mr)\s+Commissioner|Commissioners?|(?:Madam|Mr)\s+Minister|Ministers?|"
            r"(?:Mr|Madam)\s+High\s+Representative|High\s+Representative|"
            r"(?:my\s+)?(?:dear\s+|honourable\s+|esteemed\s+)?(?:colleagues|Members|friends)|"
            r"ladies\s+and\s+gentlemen|President|Executive\s+Vice-President")
_SALUTATION = re.compile(
    rf"^(?:(?:{_ADDRESS})\s*[,:;!]?\s*(?:and\s+)?)+"
    r"(?:on\s+behalf\s+of\s+(?:the\s+|my\s+)?[^,:.]{2,60}?(?:Group|group)\s*[,:;]\s*)?",
    re.IGNORECASE)
_THANKS = re.compile(
    r"^(?:and\s+|so\s+|but\s+)?(?:(?:many|warm|sincere)\s+)?(?:thanks?\b|thank\s+you|"
    r"I\s+(?:would\s+(?:also\s+)?like\s+to\s+|want\s+to\s+|wish\s+to\s+)?(?:also\s+)?thank|"
    r"let\s+me\s+(?:also\s+)?(?:begin\s+by\s+|start\s+by\s+)?thank|I\s+am\s+(?:very\s+)?grateful|"
    r"congratulations)", re.IGNORECASE)
_PROCEDURAL = re.compile(
    r"\b(?:the\s+debate\s+is\s+(?:now\s+)?closed|the\s+vote\s+will\s+take\s+place|"
    r"(?:I\s+)?give\s+the\s+floor|have\s+the\s+floor|blue[-\s]card|catch[-\s]the[-\s]eye|"
    r"speaking\s+time|the\s+next\s+item|the\s+sitting\s+(?:is|was)\s+(?:suspended|resumed|"
    r"closed|opened)|Rule\s+\d+|motions?\s+for\s+(?:a\s+)?resolutions?|written\s+statements?|"
    r"order\s+of\s+business|point\s+of\s+order|the\s+minutes\s+of|"
    r"(?:I\s+)?(?:do\s+)?(?:you\s+)?accept\s+(?:the|a)\s+(?:blue|question)|"
    r"(?:in|for)\s+(?:my|the)\s+(?:remaining|last)\s+(?:seconds|minute))\b", re.IGNORECASE)
_STAGE = re.compile(r"^\s*[(\[]")  # "(Applause)", "(The sitting was suspended…)"
_FRAME = re.compile(
    r"^(?:(?:and|so|but|now)\s+)?(?:let\s+me|let\s+us|allow\s+me\s+to|I\s+would\s+(?:also\s+)?"
    r"like\s+to|I\s+(?:also\s+)?want\s+to|I\s+wish\s+to|I\s+will|I'd\s+like\s+to|I\s+must|"
    r"I\s+have\s+to|I\s+shall)\s+(?:now\s+|also\s+|just\s+|first\s+|briefly\s+)*"
    r"(?:start|begin|conclude|finish|end|close|say|make|add|stress|underline|emphasi[sz]e|"
    r"highlight|mention|raise|speak|talk|turn|focus|use\s+my\s+time|point\s+out|remind|"
    r"recall|comment|explain|be\s+(?:clear|brief|honest|frank|very\s+clear)|set\s+out|"
    r"repeat|reiterate|address|welcome|ask|tell\s+you|share|give|look|come\s+back|go\s+back|"
    r"answer|respond|reply)\b", re.IGNORECASE)
_FRAME_REST = re.compile(r"(?::\s+|\bthat\s+|,\s+(?=[a-z]))")
_LEADER = re.compile(
    r"^(?:first(?:ly)?|first\s+of\s+all|second(?:ly)?|third(?:ly)?|finally|lastly|"
    r"in\s+conclusion|to\s+conclude|to\s+sum\s+up|in\s+short|so|now|well|yes|no|indeed|"
    r"of\s+course|frankly|honestly|colleagues|dear\s+colleagues|listen)\s*[,:;–—-]\s*",
    re.IGNORECASE)


# Words that carry no fact on their own (on top of the BM25 stop words): pronouns, modal and
# speech verbs, discourse markers.  What is left of a claim must still name things.
_FILLER_WORDS = frozenset(tokenize(
    "i me my we us our you your he she him her they them their it its this that these those "
    "let would could should shall will must can may might do does did done don t s ve ll re "
    "d m say said says tell told think thought know knew believe see seen look want wanted "
    "need needs like also very really just even more most much many some any all every "
    "one ones thing things way today now here there again still already yet well so then "
    "indeed course fact actually simply clear clearly sure able make made get got go going "
    "come came take give given put keep new good bad right wrong important people time "
    "colleague colleagues together happen happening continue path prove show wouldn couldn "
    "shouldn didn doesn isn aren wasn weren won"))


def content_terms(text: str) -> set[str]:
    """Stemmed words that name things (no stop words, pronouns, modals or discourse)."""
    return {t for t in tokenize(text) if t not in _FILLER_WORDS}


def is_chair(speaker: str, role: str) -> bool:
    """The President or a Vice-President in the chair (not the President of the Commission,
    nor the President-in-Office of the Council)."""
    name, what = speaker.strip().casefold(), role.strip().casefold()
    chair_words = {"president", "vice-president", "the president", "chair", "chairman",
                   "chairwoman", "acting president", "in the chair"}
    return name in chair_words or what in chair_words or what.startswith("chair")


def trim_salutation(sentence: str) -> str:
    """The sentence without the forms of address that open a speech (an exact suffix)."""
    match = _SALUTATION.match(sentence)
    if not match or not match.group(0):
        return sentence
    rest = sentence[match.end():].lstrip(" –—-")
    return rest if len(rest.split()) >= MIN_WORDS else sentence


def _strip(sentence: str) -> str | None:
    """Salutation, leading connectives and framing removed; None when nothing is left."""
    text = sentence.strip()
    for _ in range(3):
        before = text
        match = _SALUTATION.match(text)
        if match and match.group(0):
            text = text[match.end():].lstrip(" –—-")
        match = _LEADER.match(text)
        if match:
            text = text[match.end():]
        if text == before:
            break
    frame = _FRAME.match(text)
    if frame:
        rest = _FRAME_REST.search(text, frame.end())
        if rest is None:
            return None
        text = text[rest.end():]
    return text if len(text.split()) >= MIN_WORDS else None


def claim_of(sentence: str) -> str | None:
    """The quotable part of a sentence (an exact suffix of it), or None when it is a
    salutation, thanks, a procedural line, framing, a question or a slogan without content."""
    if _STAGE.match(sentence) or sentence.rstrip().endswith("?"):
        return None
    text = _strip(sentence)
    if text is None or _THANKS.match(text) or _PROCEDURAL.search(text):
        return None
    if len(content_terms(text)) < MIN_TERMS:
        return None
    return text
