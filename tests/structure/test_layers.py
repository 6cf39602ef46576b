"""The package's layers import one way, down: a module imports only from its own folder or from a
layer below it (docs/architecture.md). Read from the source (every import statement, also those
inside functions, which run later but still tie the layers together), so no module need be run.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import chatsync

PACKAGE = Path(chatsync.__file__).parent

#: Each part of the package and its layer, bottom (0) to top. A part may import its own modules and
#: any part of a lower layer; never a part of its own layer or above.
LAYERS: dict[str, int] = {
    "text": 0,  # safe text, redaction: pure string functions
    "facts": 1,  # limits, regions, endpoints, error codes, the field table, network rules
    "errors": 2,  # every exception a user can meet (chatsync/errors.py)
    "domain": 3,  # model, plan, strategy, report, kinds: no I/O, no threads
    "tencent": 4,  # the client: signing, the HTTP engine, pacing, answers
    "config": 4,  # YAML files into the domain's desired state
    "engine": 5,  # read, plan, apply, export, plan files
    "render": 5,  # plans and reports as text, JSON, Markdown
    "api": 6,  # the public Python API (chatsync.api, chatsync/__init__.py)
    "cli": 7,
    "gitops": 7,
}
#: The emulator stands beside the stack, sharing only the fact tables, the text helpers and the
#: UserSig library's wrapper.
BESIDE = {"emulator": {"text", "errors", "facts", "chatsync.tencent.usersig"}}
#: Imports a layer may not make although they run down: the client knows nothing of the domain.
NEVER = {("tencent", "domain")}
#: The package's own entry points.
ENTRY = {"__main__": "cli", "__init__": "api"}


def part_of(module: str) -> str:
    """``chatsync.facts.limits`` -> ``facts``; ``chatsync.api`` -> ``api``."""
    parts = module.split(".")
    name = parts[1] if len(parts) > 1 else "__init__"
    return ENTRY.get(name, name)


def imports(path: Path, module: str) -> Iterator[tuple[int, str]]:
    """(line, imported chatsync module) for every import in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("chatsync"):
                    yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            if base == "chatsync" or base.startswith("chatsync."):
                for alias in node.names:  # from chatsync.tencent import usersig -> that module
                    named = f"{base}.{alias.name}"
                    yield node.lineno, named if _is_module(named) else base


def _is_module(name: str) -> bool:
    path = PACKAGE.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def modules() -> Iterator[tuple[Path, str]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE.parent).with_suffix("")
        parts = list(relative.parts)
        if parts[-1] == "__init__":
            parts.pop()
        yield path, ".".join(parts)


def violations() -> list[str]:
    found = []
    for path, module in modules():
        mine = part_of(module)
        for line, target in imports(path, module):
            theirs = part_of(target)
            where = f"{path.relative_to(PACKAGE.parent)}:{line}: {module} imports {target}"
            if theirs == mine:
                continue
            if mine in BESIDE:
                if theirs not in BESIDE[mine] and target not in BESIDE[mine]:
                    found.append(f"{where} (the emulator may use only {', '.join(sorted(BESIDE[mine]))})")
            elif theirs in BESIDE:
                if mine != "cli":
                    found.append(f"{where} (nothing imports the emulator but the CLI)")
            elif mine not in LAYERS or theirs not in LAYERS:
                found.append(f"{where} (a part with no layer: add it to LAYERS)")
            elif (mine, theirs) in NEVER:
                found.append(f"{where} ({mine} may not use {theirs})")
            elif LAYERS[theirs] >= LAYERS[mine]:
                found.append(f"{where} ({theirs} is not below {mine})")
    return found


def test_every_import_runs_down_the_layers() -> None:
    assert violations() == []


def test_every_part_of_the_package_has_a_layer() -> None:
    parts = {part_of(module) for _, module in modules()}
    assert parts <= set(LAYERS) | set(BESIDE)


@pytest.mark.parametrize("source, expected", [
    ("from chatsync.engine import apply\n", ["chatsync.engine.apply"]),
    ("from chatsync.engine.apply import Applier\n", ["chatsync.engine.apply"]),
    ("from . import plan\n", ["chatsync.domain.plan"]),
    ("def f():\n    from chatsync.cli import main\n", ["chatsync.cli"]),
    ("import chatsync.api as api\n", ["chatsync.api"]),
])
def test_the_checker_sees_every_form_of_import(tmp_path: Path, source: str, expected: list[str]) -> None:
    path = tmp_path / "m.py"
    path.write_text(source)
    assert [target for _, target in imports(path, "chatsync.domain.m")] == expected
