"""Desired state: read the YAML config (files and directories) into a checked model.

Public API: :func:`load` and :class:`ConfigError` (whose ``problems`` are :class:`Problem` tuples
of a :class:`~chatsync.model.Location` and a message). See docs/configuration.md for the format.
"""

from __future__ import annotations

from chatsync.config.errors import ConfigError, Problem
from chatsync.config.loader import DEFAULT_PATH, load
from chatsync.config.schema import load_schema, schema_text

__all__ = ["DEFAULT_PATH", "ConfigError", "Problem", "load", "load_schema", "schema_text"]
