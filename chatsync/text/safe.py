"""Output hygiene, in one place: any string chatsync did not write itself is made safe to show.

Ids, nicks, ``ErrorInfo``/``ResultInfo`` and config values can hold anything. Before they reach a
terminal, a file or a pull-request comment:

* :func:`visible` writes control characters (C0, DEL, C1), line and paragraph separators and the
  bidirectional overrides and isolates as escapes (``\\x1b``, ``\\u202e``), so no value can clear a
  screen, set a window title, hide a link, reorder a line, or start a line of its own (a forged
  ``Apply complete: ...``);
* :func:`clipped` cuts server text to a sane length with a note saying how much was left out;
* :func:`quoted` is a value in double quotes, escaped like :func:`visible` plus ``\\`` and ``"``;
* :func:`markdown` neutralises a value inside Markdown: HTML, Markdown punctuation, table and line
  breakers, ``@mentions``, ``#123`` references and autolinks cannot render as live text;
* :func:`json_text` dumps JSON with the same characters written as ``\\uXXXX`` (the same value).
"""

from __future__ import annotations

import json
import re
from typing import Any

#: Characters that are never shown raw: C0 controls, DEL, C1 controls, the line and paragraph
#: separators, the bidi marks, embeddings, overrides and isolates, and the byte-order mark.
UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]")
_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}

#: Longest server text shown (an ErrorInfo, a ResultInfo, a body excerpt).
SERVER_TEXT_MAX = 300


def _escape(char: str) -> str:
    short = _SHORT.get(char)
    if short is not None:
        return short
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """``text`` with every unsafe character (:data:`UNSAFE`) written as an escape."""
    if text.isascii() and text.isprintable():  # printable ASCII holds none of them (the common case)
        return text
    return UNSAFE.sub(lambda m: _escape(m.group()), text)


def quoted(text: str) -> str:
    """``"text"``: backslashes and quotes escaped, unsafe characters as escapes (JSON-like)."""
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return '"' + text + '"'  # nothing to escape (the common case)
    return '"' + visible(text.replace("\\", "\\\\").replace('"', '\\"')) + '"'


def json_quoted(text: str) -> str:
    """``text`` in double quotes as JSON writes it, with every character that is not printable
    escaped: control characters, bidi overrides, no-break spaces and lone surrogates print as
    ``\\uXXXX``, so a message never hides or reorders what a file holds."""
    shown = json.dumps(text, ensure_ascii=False)
    if shown.isprintable():
        return shown
    return "".join(ch if ch.isprintable() else _code_point(ch) for ch in shown)


def _code_point(ch: str) -> str:
    code = ord(ch)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def clipped(text: str, limit: int = SERVER_TEXT_MAX) -> str:
    """``text`` cut to ``limit`` characters, with a note of how many were left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... [{len(text) - limit:,} more characters not shown]"


def server_text(text: str, limit: int = SERVER_TEXT_MAX) -> str:
    """Text from the server, cut to ``limit`` and made :func:`visible`."""
    return visible(clipped(text, limit))


def lines(text: str) -> list[str]:
    """``text`` split on newlines, each line made :func:`visible` (the last guard of a printer)."""
    return [visible(line) for line in text.split("\n")]


# -- Markdown -------------------------------------------------------------------------------------

#: Markdown and HTML punctuation written as numeric entities, so it stays literal text.
_MD_SPECIAL = frozenset("\\|*_`[]#~<>&$!")
#: A zero-width space follows ``@``, ``#``, the ``:`` of ``://``, the ``www`` of ``www.`` and the ``GH``
#: of ``GH-1``, so GitHub cannot make a mention, an issue reference or an autolink (``https://``,
#: ``www.``, ``a@b.c``).
_ZERO_WIDTH_SPACE = "&#8203;"


def markdown(text: str) -> str:
    """``text`` as literal inline Markdown text, safe in a table cell of a GitHub comment.

    Unsafe characters become escapes first (:func:`visible`: no raw newline or carriage return can
    end a table row), then punctuation becomes numeric entities (no emphasis, link, code span or
    HTML), and a zero-width space follows ``@``, ``#``, ``://``'s colon and ``www`` (no mention, reference or
    autolink).
    """
    shown = visible(text)
    out: list[str] = []
    for n, char in enumerate(shown):
        if char in _MD_SPECIAL:
            out.append(f"&#{ord(char)};")
        else:
            out.append(char)
        if char in "@#" or (char == ":" and shown.startswith("//", n + 1)) or (
                char in "wW" and shown[n - 2:n + 2].lower() == "www.") or (
                char in "hH" and shown[n - 1:n + 2].lower() == "gh-"):
            out.append(_ZERO_WIDTH_SPACE)
    return "".join(out)


def markdown_code(text: str) -> str:
    """``text`` as a Markdown code span, outside tables: literal (no mention, reference, link,
    emphasis or HTML: a code span has none) and copied as written, so a URL in it carries no
    zero-width space. Unsafe characters are escapes (:func:`visible`: nothing ends the line), and
    the fence is longer than any run of backticks inside."""
    shown = visible(text)
    longest = max((len(run) for run in re.findall("`+", shown)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if shown[:1] in ("`", " ") or shown[-1:] in ("`", " ") else ""  # kept: one is stripped
    return f"{fence}{pad}{shown}{pad}{fence}"


# -- JSON -----------------------------------------------------------------------------------------

_JSON_UNSAFE = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]")


def json_text(data: Any, *, indent: int | None = 2) -> str:
    """``data`` as JSON (UTF-8 kept readable), with the unsafe characters JSON leaves raw (DEL, C1,
    bidi, separators) written as ``\\uXXXX`` escapes: the same value once parsed."""
    dumped = json.dumps(data, indent=indent, ensure_ascii=False)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", dumped)


#: The most characters of a key or value a message quotes: a longer one is cut there, and its
#: length said. A message never carries a whole line of a file that was not meant to be read.
SHOWN_MAX = 40


def cut(text: str) -> tuple[str, str]:
    """The part of ``text`` a message may show, and what to say after it when it was cut."""
    if len(text) <= SHOWN_MAX:
        return text, ""
    return text[:SHOWN_MAX], f"... ({len(text):,} characters)"


def quote(text: str) -> str:
    """``text`` in double quotes, with every character that is not printable escaped
    (:func:`chatsync.text.safe.json_quoted`), cut after :data:`SHOWN_MAX` characters."""
    shown, more = cut(text)
    return json_quoted(shown) + more
