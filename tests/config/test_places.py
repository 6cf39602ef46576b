"""Places in a config are kept as packed integers (not yaml Mark objects): they read back as the
same line and column, and problems far down a large file are located exactly."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from chatsync.config import load
from chatsync.config.yaml_loader import line_column, location, pos
from chatsync.errors import ConfigError


@pytest.mark.parametrize(("line", "column"), [(0, 0), (0, 7), (123_456, 3), (2**31, 2**20 - 1)])
def test_a_packed_place_reads_back(line: int, column: int) -> None:
    packed = pos(SimpleNamespace(line=line, column=column))
    assert packed != 0
    assert line_column(packed) == (line, column)
    assert str(location("f.yaml", packed)) == f"f.yaml:{line + 1}:{column + 1}"


def test_a_column_past_the_packing_is_clamped_not_wrapped() -> None:
    assert line_column(pos(SimpleNamespace(line=4, column=2**20 + 5))) == (4, 2**20 - 1)


def test_a_problem_deep_in_a_large_file_is_located_exactly(tmp_path: Path) -> None:
    lines = ["version: 1", "app:", "  sdkappid: 1400000000", "accounts:"]
    lines += [f"  user{i}:\n    nick: \"N{i}\"" for i in range(5000)]
    lines += ["  bad:", "    nick: 12"]  # a number, not text
    path = tmp_path / "big.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load([str(path)])
    where = str(caught.value.problems[0].location)
    assert where == f"{path}:{4 + 2 * 5000 + 2}:11"
