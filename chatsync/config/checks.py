"""The kinds of problem a config can have (a :class:`~chatsync.errors.Problem`'s ``check``)."""

from __future__ import annotations

#: The kinds of problem (``check``), stable names a CI report groups by (GitLab's ``check_name``).
FILE = "chatsync-file"  # a path that cannot be read as a config file
YAML = "chatsync-yaml"  # not YAML, or not the text YAML allows
SCHEMA = "chatsync-schema"  # breaks the JSON Schema (a type, a value, a missing field)
UNKNOWN_FIELD = "chatsync-unknown-field"  # a field the schema does not know
SECRET = "chatsync-secret"  # a secret key written into a config file
RULE = "chatsync-rule"  # breaks a rule of one file beyond the schema (an id, a limit, an endpoint)
CONFIG = "chatsync-config"  # a rule across the files (an id declared twice, one app: section, ...)
