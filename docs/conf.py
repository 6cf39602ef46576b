"""Sphinx settings of the documentation site: ``make docs`` builds it into build/docs with every
warning an error (a broken link, a page missing from the navigation, a docstring autodoc cannot read).

The pages are Markdown (MyST); the tables that come from the code are written into them by
scripts/gen_docs.py, which ``make docs`` runs first.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # autodoc imports chatsync from this checkout

from chatsync.facts.version import VERSION  # noqa: E402

project = "chatsync"
author = "the chatsync authors"
copyright = "the chatsync authors, Apache-2.0"
release = version = VERSION

extensions = ["myst_parser", "sphinx.ext.autodoc"]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build"]

# Links to a heading of another page (configuration.md#app) resolve, and are checked.
myst_heading_anchors = 4
myst_enable_extensions = ["deflist"]

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_default_options = {"members": True, "undoc-members": False}

# Text as written: no "--out" turned into an en dash, no curly quotes in copied commands.
smartquotes = False

html_theme = "furo"
html_title = f"chatsync {VERSION}"
html_show_sourcelink = False
html_static_path: list[str] = []
