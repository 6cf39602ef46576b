"""The JSON plan (``--format json`` and the ``--out`` file): :attr:`Plan.data`, indented, UTF-8."""

from __future__ import annotations

import json

from chatsync.plan import Plan


def render(plan: Plan, color: bool = False) -> str:
    """``plan.data`` as indented JSON with a final newline (``color`` is ignored)."""
    return json.dumps(plan.data, indent=2, ensure_ascii=False) + "\n"
