"""The JSON plan (``--format json`` and the ``--out`` file): :attr:`Plan.data`, indented, UTF-8."""

from __future__ import annotations

from chatsync.domain.plan import Plan
from chatsync.text.safe import json_text


def render(plan: Plan, color: bool = False) -> str:
    """``plan.data`` as indented JSON with a final newline (``color`` is ignored); control and bidi
    characters are ``\\u`` escapes (:func:`chatsync.text.safe.json_text`)."""
    return json_text(plan.data) + "\n"
