"""The guides run: the shell blocks of docs/getting-started.md, docs/adopting.md and docs/groups.md,
run as a user would type them, against a real emulator on loopback, so a guide cannot drift from the
product.

How a page is read (the page's own comment says so too):
- every ```sh block runs, in order, in one bash shell (``set -e``: a command that fails fails the
  test), in a fresh folder holding a copy of examples/, with this checkout's ``chatsync`` first on
  the PATH;
- a block after ``<!-- guide: second terminal -->`` runs beside the rest, as in a second terminal;
  the guide goes on once it has printed its first line (the emulator's ``listening on``);
- a block after ``<!-- guide: not run (why) -->`` is not run (the install: the suite runs from it);
- in a ```console block each ``$ `` line is a command of that same shell, and the lines after it
  are its standard output, compared exactly.

The one change made to the text: port 8080 becomes a free port (in the blocks, in the expected
output and in the copied examples), so runs in parallel do not collide.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
FENCE = re.compile(r"(?:<!-- guide: (?P<mark>[^>]*?) -->\n)?```(?P<lang>\w*)\n(?P<body>.*?)```", re.DOTALL)


@dataclass
class Command:
    line: str
    expected: str


@dataclass
class Guide:
    script: list[str] = field(default_factory=list)
    commands: list[Command] = field(default_factory=list)
    not_run: int = 0


def read_guide(text: str) -> Guide:
    guide = Guide()
    for block in FENCE.finditer(text):
        mark, lang, body = block.group("mark") or "", block.group("lang"), block.group("body")
        if mark.startswith("not run"):
            guide.not_run += 1
            continue
        if lang == "sh" and mark == "second terminal":
            log = f'"$GUIDE_OUT/terminal-{len(guide.script)}.log"'
            guide.script += [
                f"( {body.strip()}\n) > {log} 2>&1 &",
                f"for _ in $(seq 600); do [ -s {log} ] && break; sleep 0.05; done",
                f"[ -s {log} ] || {{ echo 'the second terminal printed nothing'; exit 1; }}",
            ]
        elif mark:
            raise AssertionError(f"unknown guide mark {mark!r}")
        elif lang == "sh":
            guide.script.append(body)
        elif lang == "console":
            lines = body.splitlines()
            assert lines and lines[0].startswith("$ "), f"a console block starts with '$ ': {lines[:1]}"
            for line in lines:
                if line.startswith("$ "):
                    guide.commands.append(Command(line[2:], ""))
                    n = len(guide.commands)
                    guide.script.append(f"{line[2:]} > \"$GUIDE_OUT/command-{n}.out\"")
                else:
                    guide.commands[-1].expected += line + "\n"
    return guide


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_guide(page: Path, tmp_path: Path) -> tuple[Guide, Path]:
    port = str(free_port())
    guide = read_guide(page.read_text(encoding="utf-8").replace("8080", port))
    work, out = tmp_path / "work", tmp_path / "out"
    out.mkdir()
    shutil.copytree(ROOT / "examples", work / "examples")
    for path in (work / "examples").rglob("*.yaml"):
        path.write_text(path.read_text(encoding="utf-8").replace("8080", port), encoding="utf-8")
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("CHATSYNC_") and key not in ("NO_COLOR",)}
    env.update(PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}", GUIDE_OUT=str(out),
               HOME=str(tmp_path))
    script = "set -euo pipefail\n" + "\n".join(guide.script) + "\n"
    (out / "guide.sh").write_text(script, encoding="utf-8")
    process = subprocess.Popen(["bash", str(out / "guide.sh")], cwd=work, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        log, _ = process.communicate(timeout=300)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)  # the second terminal's emulator
    assert process.returncode == 0, f"{page}: the guide stopped (exit {process.returncode}):\n{log}"
    for n, command in enumerate(guide.commands, 1):
        got = (out / f"command-{n}.out").read_text(encoding="utf-8")
        assert got.replace(port, "8080") == command.expected.replace(port, "8080"), (
            f"{page}: `{command.line}` printed something else than the page shows:\n{got}")
    return guide, work


def test_getting_started_runs_as_written(tmp_path: Path) -> None:
    guide, work = run_guide(ROOT / "docs" / "getting-started.md", tmp_path)
    assert guide.not_run == 1 and len(guide.commands) >= 6
    assert (work / "app.json").is_file()  # the emulator kept the app where the page says


def test_adopting_an_existing_app_runs_as_written(tmp_path: Path) -> None:
    guide, work = run_guide(ROOT / "docs" / "adopting.md", tmp_path)
    assert guide.commands[-1].expected.endswith("No changes. The app matches the configuration.\n")
    exported = yaml.safe_load((work / "adopt" / "accounts.yaml").read_text(encoding="utf-8"))
    assert "app" not in exported  # --no-app: it plans beside the hand-written app.yaml
    assert set(exported["bots"]) == {"@RBT#helpdesk"} and set(exported["accounts"]) == {"alice", "bob"}
    assert exported["accounts"]["alice"] == {"nick": "Alice", "level": 3}  # only the fields set
    assert exported["accounts"]["bob"] is None or exported["accounts"]["bob"] == {}


def test_groups_end_to_end_runs_as_written(tmp_path: Path) -> None:
    guide, work = run_guide(ROOT / "docs" / "groups.md", tmp_path)
    assert guide.commands[-1].expected.endswith("No changes. The app matches the configuration.\n")
    saved = json.loads((work / "groups-demo" / "plan.json").read_text(encoding="utf-8"))
    team = next(change for change in saved["changes"] if change["address"] == "group.team")
    assert team["notified"] is True and team["joins"] == ["dave"]  # what the page says it holds


def test_a_guide_whose_output_drifted_fails(tmp_path: Path) -> None:
    """The check itself: a page showing output the command does not print fails, naming it."""
    page = tmp_path / "drift.md"
    page.write_text("```console\n$ chatsync --version\nchatsync, version 0.0.0-not-this-one\n```\n",
                    encoding="utf-8")
    with pytest.raises(AssertionError, match="`chatsync --version` printed something else"):
        run_guide(page, tmp_path)


def test_a_guide_whose_command_fails_fails(tmp_path: Path) -> None:
    page = tmp_path / "fails.md"
    page.write_text("```sh\nchatsync validate no-such-folder\n```\n", encoding="utf-8")
    with pytest.raises(AssertionError, match="the guide stopped"):
        run_guide(page, tmp_path)
