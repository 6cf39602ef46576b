"""chatsync: Terraform for Tencent Cloud Chat accounts.

Declare the bots and accounts an app must have in YAML; ``chatsync plan`` diffs them against the
live app and ``chatsync apply`` converges it. ``chatsync emulator`` runs a local stand-in for the
Chat REST API so all of it works without a Tencent account.

From Python (:mod:`chatsync.core`; the README has a full example)::

    import chatsync

    desired = chatsync.load("chatsync.yaml")
    planned = chatsync.plan(desired)
    print(chatsync.format_plan(planned, "text"))
    report = chatsync.apply(planned)

The names of :data:`__all__` are loaded on first use, so ``import chatsync`` (and importing the
client, :mod:`chatsync.tencent`) stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: Public name -> the module that defines it.
_EXPORTS = {
    "load": "chatsync.core",
    "plan": "chatsync.core",
    "apply": "chatsync.core",
    "read_plan": "chatsync.core",
    "save_plan": "chatsync.core",
    "export": "chatsync.core",
    "check_applicable": "chatsync.core",
    "connect": "chatsync.core",
    "format_plan": "chatsync.output",
    "format_report": "chatsync.output",
    "UnsafePlan": "chatsync.core",
    "ApplyRefused": "chatsync.core",
    "StalePlan": "chatsync.core",
    "ChatsyncError": "chatsync.errors",
    "ConfigError": "chatsync.config",
    "DesiredState": "chatsync.model",
    "Principal": "chatsync.model",
    "AppConfig": "chatsync.model",
    "Plan": "chatsync.plans",
    "Change": "chatsync.plans",
    "Report": "chatsync.applier",
    "Outcome": "chatsync.applier",
}

__all__ = ["__version__", *_EXPORTS]

if TYPE_CHECKING:  # the same names, for type checkers and editors
    from chatsync.applier import Outcome as Outcome
    from chatsync.applier import Report as Report
    from chatsync.config import ConfigError as ConfigError
    from chatsync.core import ApplyRefused as ApplyRefused
    from chatsync.core import StalePlan as StalePlan
    from chatsync.core import UnsafePlan as UnsafePlan
    from chatsync.core import apply as apply
    from chatsync.core import check_applicable as check_applicable
    from chatsync.core import connect as connect
    from chatsync.core import export as export
    from chatsync.core import load as load
    from chatsync.core import plan as plan
    from chatsync.core import read_plan as read_plan
    from chatsync.core import save_plan as save_plan
    from chatsync.errors import ChatsyncError as ChatsyncError
    from chatsync.model import AppConfig as AppConfig
    from chatsync.model import DesiredState as DesiredState
    from chatsync.model import Principal as Principal
    from chatsync.output import format_plan as format_plan
    from chatsync.output import format_report as format_report
    from chatsync.plans import Change as Change
    from chatsync.plans import Plan as Plan


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'chatsync' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
