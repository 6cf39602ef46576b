"""``chatsync validate`` and ``chatsync schema``: offline checks of the desired-state files."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
