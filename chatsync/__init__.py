"""chatsync: Terraform for Tencent Cloud Chat accounts.

Declare the bots and accounts an app must have in YAML; ``chatsync plan`` diffs them against the
live app and ``chatsync apply`` converges it. ``chatsync emulator`` runs a local stand-in for the
Chat REST API so all of it works without a Tencent account.

From Python (:mod:`chatsync.api`; docs/api.md has a full example)::

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

from chatsync.facts.version import VERSION as __version__

#: Public name -> the module that defines it.
_EXPORTS = {
    "load": "chatsync.api",
    "plan": "chatsync.api",
    "apply": "chatsync.api",
    "read_plan": "chatsync.api",
    "save_plan": "chatsync.api",
    "export": "chatsync.api",
    "check_applicable": "chatsync.api",
    "connect": "chatsync.api",
    "format_plan": "chatsync.render.formats",
    "format_report": "chatsync.render.formats",
    "DesiredState": "chatsync.domain.model",
    "Principal": "chatsync.domain.model",
    "AppConfig": "chatsync.domain.model",
    "Plan": "chatsync.domain.plan",
    "Change": "chatsync.domain.plan",
    "Report": "chatsync.domain.report",
    "Outcome": "chatsync.domain.report",
    # every exception a public function raises (chatsync.errors)
    "ChatsyncError": "chatsync.errors",
    "ConfigError": "chatsync.errors",
    "Problem": "chatsync.errors",
    "Location": "chatsync.errors",
    "PlanFileError": "chatsync.errors",
    "CredentialsError": "chatsync.errors",
    "TargetError": "chatsync.errors",
    "NetworkSetupError": "chatsync.errors",
    "CallFailed": "chatsync.errors",
    "ProtocolError": "chatsync.errors",
    "Stopped": "chatsync.errors",
    "LiveReadError": "chatsync.errors",
    "UnsafePlan": "chatsync.errors",
    "ApplyRefused": "chatsync.errors",
    "StalePlan": "chatsync.errors",
}

__all__ = ["__version__", *_EXPORTS]

if TYPE_CHECKING:  # the same names, for type checkers and editors
    from chatsync.api import apply as apply
    from chatsync.api import check_applicable as check_applicable
    from chatsync.api import connect as connect
    from chatsync.api import export as export
    from chatsync.api import load as load
    from chatsync.api import plan as plan
    from chatsync.api import read_plan as read_plan
    from chatsync.api import save_plan as save_plan
    from chatsync.domain.model import AppConfig as AppConfig
    from chatsync.domain.model import DesiredState as DesiredState
    from chatsync.domain.model import Principal as Principal
    from chatsync.domain.plan import Change as Change
    from chatsync.domain.plan import Plan as Plan
    from chatsync.domain.report import Outcome as Outcome
    from chatsync.domain.report import Report as Report
    from chatsync.errors import ApplyRefused as ApplyRefused
    from chatsync.errors import CallFailed as CallFailed
    from chatsync.errors import ChatsyncError as ChatsyncError
    from chatsync.errors import ConfigError as ConfigError
    from chatsync.errors import CredentialsError as CredentialsError
    from chatsync.errors import LiveReadError as LiveReadError
    from chatsync.errors import Location as Location
    from chatsync.errors import NetworkSetupError as NetworkSetupError
    from chatsync.errors import PlanFileError as PlanFileError
    from chatsync.errors import Problem as Problem
    from chatsync.errors import ProtocolError as ProtocolError
    from chatsync.errors import StalePlan as StalePlan
    from chatsync.errors import Stopped as Stopped
    from chatsync.errors import TargetError as TargetError
    from chatsync.errors import UnsafePlan as UnsafePlan
    from chatsync.render.formats import format_plan as format_plan
    from chatsync.render.formats import format_report as format_report


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'chatsync' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
