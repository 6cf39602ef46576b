"""Plan renderers: each turns a :class:`~chatsync.domain.plan.Plan` into the text of one output format.

Every renderer is a module of its own with one function, ``render(plan, color=False) -> str``;
:data:`RENDERERS` maps a ``--format`` name to it. :func:`write` prints a plan without making the
text plan one string (a plan of 100,000 changes is several megabytes of it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

import click

from chatsync.domain.plan import Plan
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


#: Lines of the text plan written at a time by :func:`write`.
WRITE_LINES = 2000


def write(plan: Plan, output_format: str, *, color: bool = False, file: TextIO | None = None) -> None:
    """Print ``plan`` in ``output_format`` to ``file`` (stdout by default), as :func:`render` makes it."""
    if output_format != "text":
        click.echo(render(plan, output_format, color=color), nl=False, file=file)
        return
    batch: list[str] = []
    for line in text.lines(plan, color):
        batch.append(line)
        if len(batch) >= WRITE_LINES:
            batch.append("")
            click.echo("\n".join(batch), nl=False, file=file)
            batch.clear()
    batch.append("")
    click.echo("\n".join(batch), nl=False, file=file)
