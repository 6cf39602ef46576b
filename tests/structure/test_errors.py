"""One exception tree: every error a user can meet is defined in chatsync/errors.py, and those the
public functions raise are exported from ``chatsync`` (as httpx exports its own)."""

from __future__ import annotations

import ast
import inspect

import chatsync
from chatsync import errors
from tests.structure.test_layers import modules

#: Raised only by the command line, the GitOps steps and the emulator, never by a public function.
COMMAND_LINE_ONLY = {"ApplyCancelled", "ApplyFailed", "ForgeError", "StepUsageError", "ActionError",
                     "StateFileError", "StateWriteError",
                     "UsageError"}


def error_classes() -> set[str]:
    return {name for name, value in vars(errors).items()
            if inspect.isclass(value) and issubclass(value, errors.ChatsyncError)}


def test_no_module_but_errors_defines_a_chatsync_error() -> None:
    known = error_classes()
    elsewhere = []
    for path, module in modules():
        if module == "chatsync.errors":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                bases = {b.id if isinstance(b, ast.Name) else b.attr if isinstance(b, ast.Attribute) else ""
                         for b in node.bases}
                if bases & known:
                    elsewhere.append(f"{module}.{node.name}")
    assert elsewhere == []


def test_every_error_a_public_function_raises_is_exported() -> None:
    public = error_classes() - COMMAND_LINE_ONLY
    assert public <= set(chatsync.__all__)
    for name in public:
        assert getattr(chatsync, name) is getattr(errors, name)


def test_each_error_prints_its_own_text() -> None:
    error = errors.StalePlan(["bot x changed"])
    assert error.report() == [f"Error: {error}"]
    assert "stale" in str(error)
