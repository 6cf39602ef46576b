"""Plans and reports as text, for Python callers: the same renderers the CLI prints with."""

from __future__ import annotations

from chatsync.domain.plan import Plan
from chatsync.domain.report import Report
from chatsync.render import RENDERERS, render
from chatsync.render import report as report_render


def format_plan(planned: Plan, output_format: str = "text", *, color: bool = False) -> str:
    """``planned`` as ``text``, ``json`` (the saved-plan form) or ``markdown`` (a PR comment)."""
    if output_format not in RENDERERS:
        raise ValueError(f"unknown plan format {output_format!r}; use one of {', '.join(RENDERERS)}")
    return render(planned, output_format, color=color)


def format_report(report: Report, output_format: str = "text", *, color: bool = False) -> str:
    """The apply ``report`` as ``text`` or ``json``."""
    if output_format == "json":
        return report_render.json_text(report)
    if output_format != "text":
        raise ValueError(f"unknown report format {output_format!r}; use text or json")
    return report_render.text(report, color=color)
