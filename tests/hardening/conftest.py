"""Issue 22's hardening tests: the emulator on loopback and the CLI, as in tests/apply (the shared
``serve`` fixture, its outputs checked for secrets)."""

from __future__ import annotations

from tests.apply.conftest import secrets as secrets
from tests.apply.conftest import shown_outputs as shown_outputs

__all__ = ["secrets", "shown_outputs"]
