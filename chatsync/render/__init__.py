"""Plan renderers: each turns a :class:`~chatsync.plans.Plan` into the text of one output format.

Every renderer is a module of its own with one function, ``render(plan, color=False) -> str``;
:data:`RENDERERS` maps a ``--format`` name to it.
"""

from __future__ import annotations

from collections.abc import Callable

from chatsync.plans import Plan
from chatsync.render import json_plan, markdown, text

Renderer = Callable[..., str]

RENDERERS: dict[str, Renderer] = {
    "text": text.render,
    "json": json_plan.render,
    "markdown": markdown.render,
}


def render(plan: Plan, output_format: str, *, color: bool = False) -> str:
    """``plan`` in ``output_format`` (a key of :data:`RENDERERS`)."""
    return RENDERERS[output_format](plan, color=color)
