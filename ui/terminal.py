"""Conversation in the terminal: ``hemicycle chat`` and ``hemicycle ask --history FILE``.

The session keeps the turns so follow-ups ("and the S&D?") are rewritten into standalone
questions by ``Assistant.ask(question, history)``, exactly as in the Streamlit chat page.
Lines starting with ``/`` are commands: ``/filters`` (show, set with ``KEY=VALUE``…, or
``clear``), ``/sources`` (the sources of the last answer), ``/help`` and ``/quit``.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.errors import HemicycleError, InputError
from rag.answer import Answer, Turn
from rag.filters import SearchFilters

__all__ = ["ChatSession", "format_answer", "format_sources", "load_history", "save_turn",
           "parse_filters", "make_reader", "COMMANDS"]

HELP = ("commands: /filters (show) · /filters party=EPP speaker=NAME date_from=YYYY-MM-DD "
        "date_to=YYYY-MM-DD debate=TEXT (set; repeat a key for several) · /filters clear · "
        "/sources · /help · /quit")
_KEYS = ("party", "speaker", "date_from", "date_to", "debate")


def format_sources(answer: Answer) -> str:
    lines = []
    for c in answer.citations:
        who = c.speaker + (f" ({c.party})" if c.party else "")
        if c.translated:
            who += f" [translated: true, original language: {c.original_language}]"
        lines.append(f"[{c.n}] {who} — {c.date} — {c.debate_title}")
        lines.append(textwrap.indent(textwrap.fill(f"“{c.quote}”", 100), "    "))
    return "\n".join(lines)


def format_answer(answer: Answer) -> str:
    """The answer, its sources and a one-line footer, as ``hemicycle ask`` prints them."""
    parts = [answer.answer]
    if answer.citations:
        parts.append("\nSources:\n" + format_sources(answer))
    if answer.filters and answer.filters != "no filters":
        parts.append(f"\nfilters: {answer.filters}")
    parts.extend(f"search: {step}" for step in answer.search_steps)
    parts.append(f"\n({answer.generator}, {answer.latency_s:.2f} s"
                 + (f", {answer.invalid_citations_removed} invalid citation(s) removed"
                    if answer.invalid_citations_removed else "") + ")")
    return "\n".join(parts)


def parse_filters(words: Iterable[str]) -> SearchFilters:
    """``KEY=VALUE`` words (keys: party, speaker, date_from, date_to, debate) to filters."""
    values: dict[str, list[str]] = {key: [] for key in _KEYS}
    for word in words:
        key, sep, value = word.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or key not in values or not value.strip():
            raise InputError(f"expected KEY=VALUE with KEY one of {', '.join(_KEYS)}, "
                             f"got {word!r}")
        values[key].append(value.strip())
    return SearchFilters.build(values["party"], values["speaker"],
                               (values["date_from"] or [None])[-1],
                               (values["date_to"] or [None])[-1], values["debate"])


def load_history(path: Path) -> list[Turn]:
    """Previous turns from a JSONL file (or a JSON list) of ``{question, answer}`` objects
    (``standalone`` optional).  A missing file is an empty history."""
    if not path.exists():
        return []
    try:
        text = path.read_text(encoding="utf-8").strip()
        items = json.loads(text) if text.startswith("[") else [
            json.loads(line) for line in text.splitlines() if line.strip()]
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not a JSON list or JSONL of turns ({exc})") from None
    turns = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict) or not isinstance(item.get("question"), str) \
                or not isinstance(item.get("answer"), str):
            raise InputError(f"{path}: turn {number} needs string fields question and answer")
        turns.append(Turn(item["question"], item["answer"], str(item.get("standalone", ""))))
    return turns


def save_turn(path: Path, answer: Answer) -> None:
    """Append the turn to a JSONL history file (a JSON list file is rewritten as JSONL)."""
    turns = load_history(path)
    turns.append(Turn(answer.question, answer.answer, answer.standalone_question))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps({"question": t.question, "answer": t.answer,
                                        "standalone": t.standalone}, ensure_ascii=False) + "\n"
                            for t in turns), encoding="utf-8")


COMMANDS = ("/filters", "/filters clear", "/sources", "/help", "/quit")


def make_reader(history_file: Path | None = None, input: Any = None,
                output: Any = None) -> Callable[[str], str]:
    """A line reader for ``hemicycle chat``.  At a terminal (or with an explicit ``input``):
    prompt_toolkit, with line editing, Ctrl-R search, the questions of earlier sessions in
    ``history_file`` (up arrow) and completion of the / commands; otherwise lines from
    standard input (scripts, pipes).  End of input raises ``EOFError``."""
    import sys

    if input is None and not sys.stdin.isatty():
        return _read_stdin
    from prompt_toolkit import PromptSession
    from prompt_toolkit.completion import WordCompleter
    from prompt_toolkit.history import FileHistory, InMemoryHistory

    if history_file is not None:
        history_file.parent.mkdir(parents=True, exist_ok=True)
    session: Any = PromptSession(
        history=FileHistory(str(history_file)) if history_file else InMemoryHistory(),
        completer=WordCompleter(list(COMMANDS), sentence=True, match_middle=False),
        complete_while_typing=False, input=input, output=output)

    def read(prompt: str) -> str:
        try:
            return str(session.prompt(prompt))
        except KeyboardInterrupt:  # Ctrl-C ends the session like Ctrl-D
            raise EOFError from None

    return read


def _read_stdin(prompt: str) -> str:
    import sys

    line = sys.stdin.readline()
    if not line:
        raise EOFError
    return line.rstrip("\n")


@dataclass
class ChatSession:
    """One terminal conversation: turns, current filters, the last answer."""

    assistant: Any
    filters: SearchFilters = field(default_factory=SearchFilters)
    history: list[Turn] = field(default_factory=list)
    last: Answer | None = None

    def handle(self, line: str) -> str | None:
        """The reply to one input line; None means the session ends."""
        line = line.strip()
        if not line:
            return ""
        if line.startswith("/"):
            return self._command(line)
        answer = self.assistant.ask(line, self.history, self.filters)
        self.last = answer
        self.history.append(Turn(answer.question, answer.answer, answer.standalone_question))
        shown = format_answer(answer)
        if answer.standalone_question and answer.standalone_question != line:
            shown = f"(understood as: {answer.standalone_question})\n\n{shown}"
        return shown

    def _command(self, line: str) -> str | None:
        name, *words = line.split()
        if name in ("/quit", "/exit", "/q"):
            return None
        if name == "/help":
            return HELP
        if name == "/sources":
            if self.last is None:
                return "no answer yet"
            return format_sources(self.last) or "the last answer cites no source"
        if name == "/filters":
            if words == ["clear"]:
                self.filters = SearchFilters()
            elif words:
                self.filters = parse_filters(words)
            return f"filters: {self.filters.describe()}"
        return f"unknown command {name}; {HELP}"

    def run(self, read: Callable[[str], str], write: Callable[[str], None]) -> None:
        """Read lines until /quit or end of input; mistakes are one line, not the end."""
        write(f"Hemicycle chat: ask about the debates, follow-ups included. {HELP}")
        while True:
            try:
                line = read("> ")
            except EOFError:
                break
            try:
                reply = self.handle(line)
            except HemicycleError as exc:
                reply = f"error: {exc}"
            if reply is None:
                break
            if reply:
                write(reply + "\n")
