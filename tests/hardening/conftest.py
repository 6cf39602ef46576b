"""Issue 22's hardening tests: the emulator on loopback and the CLI, as in tests/apply."""

from __future__ import annotations

from tests.apply.conftest import secrets as secrets
from tests.apply.conftest import serve as serve

__all__ = ["secrets", "serve"]
