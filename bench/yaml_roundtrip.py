"""Benchmark: why ``chatsync fmt`` is built on ruamel.yaml. The same generated config (N accounts, a
comment on every tenth) is read and written back by PyYAML (what chatsync reads configs with) and by
ruamel.yaml's round trip, then formatted by ``chatsync fmt``; each row says how many comments
survive and how long it took (best of ``--repeat``, one process, in turn).

    .venv/bin/python bench/yaml_roundtrip.py [--accounts 5000] [--repeat 3] [--json]
"""

from __future__ import annotations

import argparse
import io
import json
import time
from collections.abc import Callable

import yaml

from chatsync.config.fmt import _yaml, comments, format_text


def config(count: int) -> str:
    lines = ["# yaml-language-server: $schema=./chatsync.schema.json", "version: 1", "app:",
             "  sdkappid: 1400000000   # the console's SDKAppID", "accounts:"]
    for i in range(count):
        if i % 10 == 0:
            lines.append(f"  # batch {i // 10}")
        lines += [f"  user-{i:06d}:", f"    face_url: https://example.com/{i}.png", f"    nick: User {i}"]
    return "\n".join(lines) + "\n"


def best(function: Callable[[], str], repeat: int) -> tuple[float, str]:
    times, out = [], ""
    for _ in range(repeat):
        start = time.perf_counter()
        out = function()
        times.append(time.perf_counter() - start)
    return min(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    text = config(args.accounts)
    wanted = sum(comments(text).values())

    def pyyaml() -> str:
        return yaml.safe_dump(yaml.safe_load(text), sort_keys=False, allow_unicode=True)

    def ruamel() -> str:
        rt = _yaml()
        out = io.StringIO()
        rt.dump(rt.load(text), out)
        return out.getvalue()

    def fmt() -> str:
        formatted, problems = format_text("bench.yaml", text.encode("utf-8"))
        assert formatted is not None, problems
        return formatted

    rows = []
    for name, function in (("PyYAML load + dump", pyyaml), ("ruamel.yaml round trip", ruamel),
                           ("chatsync fmt (round trip, reorder, two checks)", fmt)):
        seconds, out = best(function, args.repeat)
        rows.append({"measure": name, "seconds": round(seconds, 3),
                     "comments_kept": sum(comments(out).values()), "comments": wanted})
    if args.json:
        print(json.dumps(rows))
        return
    print(f"{args.accounts:,} accounts, {len(text.splitlines()):,} lines, {wanted} comments")
    for row in rows:
        kept = f"{row['comments_kept']}/{wanted}"
        print(f"  {row['measure']:<48} {row['seconds']:>7.3f} s   comments kept: {kept}")


if __name__ == "__main__":
    main()
