"""``chatsync validate --format github`` (workflow commands) and ``--format gitlab`` (a Code Quality
report): escaping, the 10-error cap, relative paths, the report's shape and stable fingerprints."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner, Result

from chatsync.cli import main
from chatsync.config import Problem
from chatsync.errors import Location
from chatsync.render import problems as report

APP = "version: 1\napp:\n  sdkappid: 1400000000\n"
HOSTILE_KEY = "a::b%25c,d %0A x"  # a field name with the command delimiter, an escape, a comma


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    env = {"GITHUB_WORKSPACE": "", "CI_PROJECT_DIR": "", **(env or {})}
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def parse_command(line: str) -> tuple[str, dict[str, str], str]:
    """A workflow command as GitHub's runner reads it (ActionCommand.TryParseV2): the command, its
    properties and its message, each unescaped."""
    match = re.fullmatch(r"::([a-z-]+)(?: ([^:]*))?::(.*)", line)
    assert match, line
    name, props, data = match.groups()
    properties = {}
    for pair in (props or "").split(","):
        if pair:
            key, _, value = pair.partition("=")
            properties[key] = _unescape(value, property_value=True)
    return name, properties, _unescape(data)


def _unescape(text: str, property_value: bool = False) -> str:
    pairs = [("%0D", "\r"), ("%0A", "\n")] + ([("%3A", ":"), ("%2C", ",")] if property_value else [])
    for escaped, raw in pairs:
        text = text.replace(escaped, raw)
    return text.replace("%25", "%")  # last, as the runner does


def test_github_errors_carry_the_place_relative_to_the_workspace(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "envs" / "prod" / "app.yaml"
    config.parent.mkdir(parents=True)
    config.write_text(APP + f"  '{HOSTILE_KEY}': 1\naccounts:\n  alice:\n    nick: 3\n", encoding="utf-8")
    monkeypatch.chdir(config.parent)  # the workspace, not the current directory, is the root
    result = run("validate", "--format", "github", str(config), env={"GITHUB_WORKSPACE": str(tmp_path)})
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 2, result.stdout
    commands = [parse_command(line) for line in lines]
    assert [(name, props) for name, props, _ in commands] == [
        ("error", {"file": "envs/prod/app.yaml", "line": "4", "col": "3", "title": "chatsync validate"}),
        ("error", {"file": "envs/prod/app.yaml", "line": "7", "col": "11", "title": "chatsync validate"}),
    ]
    assert f"unknown field '{HOSTILE_KEY}' in app" in commands[0][2]  # back exactly as written
    assert "%25" in lines[0] and "%2525" in lines[0]  # % escaped, so %25 in the key stays literal
    assert commands[1][2].startswith('account "alice" nick:')
    assert result.stderr == "2 problems found.\n"


def test_github_paths_are_relative_to_the_current_directory_without_dot_slash(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "chatsync.yaml").write_text(APP + "  bogus: 1\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    for given in ("./chatsync.yaml", str(tmp_path / "chatsync.yaml"), "chatsync.yaml"):
        result = run("validate", "--format", "github", given)
        assert result.exit_code == 1
        [(_, props, _)] = [parse_command(line) for line in result.stdout.splitlines()]
        assert props["file"] == "chatsync.yaml", given


def test_github_prints_at_most_10_errors_then_a_notice_with_the_rest(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    fields = "".join(f"  unknown{i:02d}: 1\n" for i in range(12))
    (tmp_path / "chatsync.yaml").write_text(APP + fields, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = run("validate", "--format", "github")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 11
    assert all(line.startswith("::error file=chatsync.yaml,line=") for line in lines[:10])
    named = [parse_command(line)[2].split("'")[1] for line in lines[:10]]
    assert named == [f"unknown{i:02d}" for i in range(10)]
    assert lines[10] == "::notice::2 more problems: run chatsync validate locally to see all of them"
    assert result.stderr == "12 problems found.\n"


def test_github_a_file_that_cannot_be_read_has_no_line(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("validate", "--format", "github", "missing.yaml")
    assert result.exit_code == 1
    [(_, props, message)] = [parse_command(line) for line in result.stdout.splitlines()]
    assert props == {"file": "missing.yaml", "title": "chatsync validate"}
    assert "no such file" in message


def test_github_escapes_every_value_so_none_can_start_a_command() -> None:
    message = "first\nsecond\r\n::warning::spoof 100% %0A a,b: \x1b[31mred\u202e\rthird"
    problems = [Problem(Location("dir,a:b/x %25.yaml", 3, 5), message),
                Problem(Location("", 0, 0), "no place\n::error::x")]
    lines = report.github(problems, "/nowhere")
    assert len(lines) == 2
    for line in lines:
        assert not re.search(r"[\x00-\x1f\x7f\u202e]", line), repr(line)
    _, props, data = parse_command(lines[0])
    assert props["file"].endswith("dir,a:b/x %25.yaml") and props["line"] == "3" and props["col"] == "5"
    assert data == "first\nsecond\n::warning::spoof 100% %0A a,b: \\x1b[31mred\\u202e\nthird"
    assert lines[1] == "::error::no place%0A::error::x"  # no location: no file property


def test_github_valid_prints_the_usual_line_and_exits_0(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "chatsync.yaml").write_text(APP, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = run("validate", "--format", "github")
    assert (result.exit_code, result.stdout, result.stderr) == (0, run("validate").stdout, "")
    assert result.stdout.startswith("Valid: 1 app, 0 bots")


# -- GitLab Code Quality -------------------------------------------------------------------------------

CODE_QUALITY = {  # what GitLab reads of a Code Quality report
    "type": "array",
    "items": {
        "type": "object",
        "required": ["description", "check_name", "fingerprint", "severity", "location"],
        "properties": {
            "description": {"type": "string", "minLength": 1},
            "check_name": {"type": "string", "pattern": "^chatsync-[a-z-]+$"},
            "fingerprint": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            "severity": {"enum": ["info", "minor", "major", "critical", "blocker"]},
            "location": {
                "type": "object",
                "required": ["path", "lines"],
                "properties": {
                    "path": {"type": "string", "pattern": "^(?!\\./)(?!/)"},
                    "lines": {"type": "object", "required": ["begin"],
                              "properties": {"begin": {"type": "integer", "minimum": 1}}},
                },
            },
        },
    },
}

BAD = APP + "  bogus: 1\naccounts:\n  alice:\n    nick: 3\n  bob:\n    nick: 4\n  alice:\n    nick: x\n"


def _gitlab(tmp_path: Path) -> tuple[Result, list[dict[str, Any]]]:
    result = run("validate", "--format", "gitlab", str(tmp_path / "envs"),
                 env={"CI_PROJECT_DIR": str(tmp_path)})
    return result, json.loads(result.stdout)


def test_gitlab_report_has_the_code_quality_shape(tmp_path: Path) -> None:
    (tmp_path / "envs").mkdir()
    (tmp_path / "envs" / "app.yaml").write_text(BAD, encoding="utf-8")
    (tmp_path / "envs" / "gone.yaml").write_bytes(b"\xff\xfe\x00")
    result, issues = _gitlab(tmp_path)
    assert result.exit_code == 1
    jsonschema.validate(issues, CODE_QUALITY)
    assert {issue["location"]["path"] for issue in issues} == {"envs/app.yaml", "envs/gone.yaml"}
    kinds = {issue["check_name"] for issue in issues}
    assert {"chatsync-unknown-field", "chatsync-schema", "chatsync-yaml"} <= kinds, kinds
    assert {issue["severity"] for issue in issues} == {"major"}
    bogus = next(issue for issue in issues if "bogus" in issue["description"])
    assert (bogus["check_name"], bogus["location"]["lines"]["begin"]) == ("chatsync-unknown-field", 4)
    assert len({issue["fingerprint"] for issue in issues}) == len(issues)
    assert result.stderr == f"{len(issues)} problems found.\n"


def test_gitlab_fingerprints_are_stable_across_runs_and_moved_lines(tmp_path: Path) -> None:
    (tmp_path / "envs").mkdir()
    config = tmp_path / "envs" / "app.yaml"
    config.write_text(BAD, encoding="utf-8")
    first, second = _gitlab(tmp_path)[1], _gitlab(tmp_path)[1]
    assert first == second
    config.write_text("# a comment moves every line down\n" + BAD, encoding="utf-8")
    moved = _gitlab(tmp_path)[1]
    assert [i["fingerprint"] for i in moved] == [i["fingerprint"] for i in first]  # even the duplicate
    assert any(re.search(r"already at \S+:\d+:\d+", i["description"]) for i in moved)  # cites a line
    lines = [i["location"]["lines"]["begin"] for i in first]
    assert [i["location"]["lines"]["begin"] for i in moved] == [line + 1 for line in lines]


def test_gitlab_two_identical_problems_in_one_file_differ() -> None:
    same = [Problem(Location("/repo/a.yaml", line, 1), "same words", "chatsync-rule") for line in (3, 9)]
    other = Problem(Location("/repo/b.yaml", 3, 1), "same words", "chatsync-rule")
    issues = json.loads(report.gitlab([*same, other], "/repo"))
    fingerprints = [issue["fingerprint"] for issue in issues]
    assert len(set(fingerprints)) == 3
    assert fingerprints == [i["fingerprint"] for i in json.loads(report.gitlab([*same, other], "/repo"))]
    assert [issue["location"] for issue in issues] == [
        {"path": "a.yaml", "lines": {"begin": 3}}, {"path": "a.yaml", "lines": {"begin": 9}},
        {"path": "b.yaml", "lines": {"begin": 3}}]


def test_gitlab_valid_is_an_empty_report_and_exit_0(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "chatsync.yaml").write_text(APP, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = run("validate", "--format", "gitlab")
    assert (result.exit_code, json.loads(result.stdout)) == (0, [])
    assert result.stderr == run("validate").stdout and result.stderr.startswith("Valid: ")


@pytest.mark.parametrize(("file", "root", "expected"), [
    ("/repo/envs/a.yaml", "/repo", "envs/a.yaml"),
    ("/repo/./envs/../a.yaml", "/repo/", "a.yaml"),
    ("/elsewhere/a.yaml", "/repo", "/elsewhere/a.yaml"),
    ("/repository/a.yaml", "/repo", "/repository/a.yaml"),  # a sibling whose name starts alike
    ("", "/repo", ""),
])
def test_repository_paths(file: str, root: str, expected: str) -> None:
    assert report.repository_path(file, root) == expected
