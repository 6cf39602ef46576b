"""The bad-config corpus: every file under corpus/bad fails with exactly the problems it expects.

Each file starts with ``# expect: LINE:COLUMN: message start`` lines (``{file}`` stands for the
file's own path); the loader must report exactly those problems, at exactly those places.
``# secret: TEXT`` lines name text (part of a key or password) that no message may contain.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from chatsync.config import ConfigError, load

BAD = Path(__file__).parent / "corpus" / "bad"
CASES = sorted(BAD.glob("*.yaml"))
EXPECT = re.compile(r"^# expect: (\d+):(\d+): (.+)$")
SECRET = re.compile(r"^# secret: (.+)$")


def secrets(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [m.group(1) for m in map(SECRET.match, lines) if m]


def expectations(path: Path) -> list[tuple[int, int, str]]:
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        match = EXPECT.match(line)
        if match:
            message = match.group(3).replace("{file}", str(path))
            found.append((int(match.group(1)), int(match.group(2)), message))
    return found


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 30


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_bad_config(path: Path) -> None:
    expected = expectations(path)
    assert expected, f"{path.name} has no '# expect:' header"
    with pytest.raises(ConfigError) as caught:  # alias bombs are bounded: test_alias_bounds.py
        load([str(path)])
    problems = caught.value.problems
    got = [(p.location.line, p.location.column, p.message) for p in problems]
    assert len(problems) == len(expected), got
    for (line, column, message), problem in zip(expected, problems, strict=True):
        assert problem.location.file == str(path)
        assert (problem.location.line, problem.location.column) == (line, column), got
        assert problem.message.startswith(message), got
        assert str(problem) == f"{path}:{line}:{column}: {problem.message}"
        assert ";" in problem.message  # what is wrong; what to do
        assert "Traceback" not in problem.message
        for secret in secrets(path):
            assert secret not in problem.message


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_bad_config_with_the_pure_python_parser(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without libyaml, the same problems at the same places."""
    import yaml

    from chatsync.config import yaml_loader

    monkeypatch.setattr(yaml_loader, "_EventLoader", yaml.SafeLoader)
    with pytest.raises(ConfigError) as caught:
        load([str(path)])
    got = [(p.location.line, p.location.column) for p in caught.value.problems]
    assert got == [(line, column) for line, column, _ in expectations(path)]
