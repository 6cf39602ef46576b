"""Benchmark: the schema check of a config of N accounts, chatsync's own (predicates compiled from
the packaged schema, jsonschema only for entries they reject) against ``fastjsonschema`` (the
fastest pure-Python JSON Schema validator), side by side on the same parsed document.

fastjsonschema is not a dependency: install it in the venv to run this (``.venv/bin/pip install
fastjsonschema``); without it the script says so and measures chatsync's check alone. Note that
fastjsonschema implements drafts 4, 6 and 7, not 2020-12 (the packaged schema's draft), and stops at
the first error, so it could at best be a fast "is it valid" pass before chatsync's own check.

    .venv/bin/python bench/schema_libraries.py [--accounts 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from chatsync.config import schema, yaml_loader


def write_config(path: Path, count: int) -> None:
    lines = ["version: 1", "app:", "  sdkappid: 1400000000", "accounts:"]
    for i in range(count):
        lines += [f"  user-{i:06d}:", f'    nick: "User {i}"', f'    face_url: "https://example.com/{i}.png"']
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def best(function: object, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "c.yaml"
        write_config(path, args.accounts)
        root, problems = yaml_loader.read_text(str(path), path.read_bytes())
    assert root is not None and not problems
    result: dict[str, object] = {"accounts": args.accounts}
    result["chatsync_s"] = round(best(lambda: list(schema.check("c.yaml", root)), args.repeat), 3)
    try:
        import fastjsonschema  # type: ignore[import-not-found]
    except ImportError:
        result["fastjsonschema_s"] = "not installed"
    else:
        validate = fastjsonschema.compile(schema.load_schema())
        result["fastjsonschema_s"] = round(best(lambda: validate(root), args.repeat), 3)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
