"""The speaker formulas of the EP verbatim report (CRE), in every language it prints them.

The CRE prints a speaker as ``Name (Group)``, ``Name, <on behalf of the Group>`` or
``Name, <role>``, where the group formula and the role are in the language the member spoke
(``au nom du groupe PfE``, ``im Namen der S&D-Fraktion``, ``w imieniu grupy ECR``...).
The variants below were taken from the real CRE pages of the 10th term.
"""

from __future__ import annotations

import re

__all__ = ["GROUP_LABELS", "group_from_role", "role_kind", "is_chair"]

# Group labels as the CRE prints them (and older / English ones).
GROUP_LABELS = ("PPE", "EPP", "S&D", "Renew", "Verts/ALE", "Greens/EFA", "ECR", "PfE", "ESN",
                "The Left", "GUE/NGL", "NI", "ID", "ALDE", "EFDD", "ENF")
_G = r"(?P<group>" + "|".join(re.escape(g) for g in sorted(GROUP_LABELS, key=len,
                                                          reverse=True)) + r")"

# one pattern per language; {G} is the group label
_GROUP_FORMULAS = [
    r"on behalf of (?:the )?{G}(?: Group)?",  # en
    r"au nom du groupe {G}",  # fr
    r"im Namen der {G}[- ]Fraktion", r"im Namen der Fraktion {G}",  # de
    r"a nome del gruppo {G}",  # it
    r"en nombre del grupo {G}",  # es
    r"em nome do grupo {G}",  # pt
    r"w imieniu grupy {G}",  # pl
    r"εξ ονόματος της ομάδας {G}",  # el
    r"za skupinu {G}", r"v mene skupiny {G}", r"za klub {G}",  # cs, sk
    r"{G}[- ]ryhmän puolesta",  # fi
    r"för {G}[- ]?gruppen",  # sv
    r"for {G}[- ]gruppen",  # da
    r"namens de {G}[- ]fractie",  # nl
    r"от името на група(?:та)? {G}",  # bg
    r"{G} frakcijos vardu",  # lt
    r"a(?:z)? {G} képviselőcsoport nevében",  # hu
    r"v imenu skupine {G}",  # sl
    r"u ime (?:kluba|kluba zastupnika|skupine) {G}",  # hr
    r"în numele grupului {G}",  # ro
    r"{G} grupas vārdā",  # lv
    r"f['’]isem il-grupp {G}",  # mt
    r"fraktsiooni {G} nimel", r"{G} fraktsiooni nimel",  # et
    r"thar ceann an ghrúpa {G}",  # ga
]
_GROUP_FORMULA = re.compile(
    "|".join(f"(?:{p.replace('{G}', _G.replace('?P<group>', ''))})" for p in _GROUP_FORMULAS),
    re.IGNORECASE)
_GROUP_IN = re.compile(r"(?<![\w/&])" + _G + r"(?![\w/&])", re.IGNORECASE)

_CHAIR_WORDS = re.compile(
    r"^(?:(?:the|der|die|le|la|el|il|o|a|de) )?(?:president|vice-president|chair|präsident(?:in)?|"
    r"président(?:e)?|presidente|presidenta|voorzitter|formand|ordförande|puhemies|"
    r"przewodnicząc[ay]|předsedající|predsedajúc[ia]|predsjedavajuć[ia]|predsedujoč[ia]|"
    r"elnök|priekšsēdētāj[sa]|pirmininkas|pirmininkė|eesistuja|preşedint[ea]|președint[ea]|"
    r"председател(?:ят|ката)?|πρόεδρος|ο πρόεδρος|η πρόεδρος|president|uachtarán|il-president)$",
    re.IGNORECASE)

# role kinds: a short English label for the role formula, whatever the language
_ROLE_KINDS = [
    ("blue-card question", r"blue-card question|blauen karte|niebieskiej kartki|carton bleu|"
     r"tarjeta azul|cartão azul|cartellino blu|cartonașului albastru|sinisen kortin|blåt kort|"
     r"plave kartice|modré karty|kékkártyás|синя карта|mėlyn|zils kartīt|μπλε κάρτα"),
    ("in writing", r"in writing|par écrit|schriftlich|per iscritto|por escrito|na piśmie|"
     r"в писмена форма|în scris|írásban|raštu|rakstiski|písemně|písomne|pisno|pisano|"
     r"kirjallinen|skriftlig|schriftelijk|γραπτώς|bil-miktub|kirjalikult|i scríbhinn"),
    ("Commission", r"commission|kommission|commissione|comisión|comissão|komisj|комисия|"
     r"επιτροπής|komis|bizottság"),
    ("Council", r"council|conseil|rat(?:es)?\b|consiglio|consejo|conselho|rady|съвета|"
     r"συμβουλ"),
    ("rapporteur", r"rapporteur|berichterstatter|relat|ponente|sprawozdaw|rapportør|"
     r"föredragande|esittelijä|докладчик|εισηγ|előadó|izvjestitelj|poročeval|"
     r"pranešėj|referent|zpravodaj|spravodaj|raportor|deputising for the rapporteur"),
    ("author", r"author|auteur|autrice|verfasser|autor|συντάκτης"),
]
_ROLE_KIND_RES = [(kind, re.compile(p, re.IGNORECASE)) for kind, p in _ROLE_KINDS]
_ANSWER = re.compile(r"answer|antwort|réponse|risposta|respuesta|resposta|odpowied|răspuns|"
                     r"odgovor|odpověď|válasz|отговор|atsakym|svar|vastaus|reaction", re.I)


def group_from_role(role: str) -> str:
    """The group label inside a group formula (``au nom du groupe PfE`` → ``PfE``), else ''."""
    match = _GROUP_FORMULA.search(role)
    if not match:
        return ""
    label = _GROUP_IN.search(match.group(0))
    if not label:
        return ""
    found = label["group"]
    return next((g for g in GROUP_LABELS if g.lower() == found.lower()), found)


def role_kind(role: str) -> str:
    """A short English label for a role printed in any language ('' for none or unknown)."""
    if not role:
        return ""
    if group_from_role(role):
        return "on behalf of a group"
    for kind, pattern in _ROLE_KIND_RES:
        if pattern.search(role):
            if kind == "blue-card question" and _ANSWER.search(role):
                return "blue-card answer"
            return kind
    return ""


def is_chair(name: str) -> bool:
    """True for the chair's label in any language (``President``, ``Die Präsidentin``...)."""
    return bool(_CHAIR_WORDS.match(name.strip()))
