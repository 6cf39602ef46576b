"""Desired state: read the YAML config (files and directories) into a checked model.

Public API: :func:`load` and :class:`ConfigError` (whose ``problems`` are :class:`Problem` tuples
of a :class:`~chatsync.domain.model.Location` and a message); a :class:`Listener` hears of each part of a
config as soon as it is checked. See docs/configuration.md for the format.
"""

from __future__ import annotations

from chatsync.config.loader import DEFAULT_PATH, Listener, load
from chatsync.config.schema import load_schema, schema_text
from chatsync.errors import ConfigError, Problem

__all__ = ["DEFAULT_PATH", "ConfigError", "Listener", "Problem", "load", "load_schema", "schema_text"]
