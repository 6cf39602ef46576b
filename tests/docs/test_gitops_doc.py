"""docs/gitops.md stays true: its tables list every input (with its default) and output of the
Action (action.yml) and every input of the GitLab component (templates/chatsync.yml), and nothing
they do not have."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "gitops.md").read_text(encoding="utf-8")


def _table(heading: str, first_column: str) -> dict[str, str]:
    """The rows of the table under ``heading`` whose first header cell is ``first_column``:
    {name: default (the second cell)}; a cell naming several (`a`, `b`) gives a row each."""
    section = DOC.split(heading, 1)[1]
    rows: dict[str, str] = {}
    in_table = False
    for line in section.splitlines():
        if line.startswith(f"| {first_column} |"):
            in_table = True
            continue
        if in_table and not line.startswith("|"):
            break
        if in_table and not line.startswith("|---"):
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            for name in re.findall(r"`([^`]+)`", cells[0]):
                rows[name] = cells[1]
    assert rows, f"no '{first_column}' table under {heading}"
    return rows


def _default(spec: dict[str, Any]) -> str:
    if "default" not in spec:
        return "(required)"
    default = spec["default"]
    return f"`{default}`" if default != "" else '`""`'


def test_the_action_inputs_and_outputs_are_documented() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    inputs = _table("### The Action's inputs and outputs", "input")
    assert set(inputs) == set(action["inputs"])
    for name, spec in action["inputs"].items():
        required = spec.get("required", False)
        assert inputs[name] == ("(required)" if required else _default(spec)), name
    outputs = _table("### The Action's inputs and outputs", "output")
    assert set(outputs) == set(action["outputs"])


def test_the_component_inputs_are_documented() -> None:
    spec = next(yaml.safe_load_all((ROOT / "templates" / "chatsync.yml").read_text(encoding="utf-8")))
    inputs = _table("### The component's inputs", "input")
    assert set(inputs) == set(spec["spec"]["inputs"])
    for name, declared in spec["spec"]["inputs"].items():
        assert inputs[name] == _default(declared), name
