"""Start ``chatsync emulator`` as its own process for a benchmark, the way users run it.

The same steps as ``emulator_throughput.start_emulator`` (which always turns rate limits off),
with the flags left to the caller: a made-up secret key in ``CHATSYNC_SECRET_KEY``, port 0, and
the URL read from the first stdout line. :func:`compile_sources` writes chatsync's bytecode
beforehand, as installing a package does, for the benches that time whole commands.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

KEY = "bench-only-secret-key"
SDKAPPID = 1400000000
BANNER = "chatsync emulator listening on "


@contextlib.contextmanager
def running_emulator(*flags: str) -> Iterator[str]:
    """Run ``python -m chatsync emulator --port 0 FLAGS...``; yields its base URL, then stops it."""
    process = subprocess.Popen(
        [sys.executable, "-m", "chatsync", "emulator", "--port", "0", "--sdkappid", str(SDKAPPID), *flags],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env={**os.environ, "CHATSYNC_SECRET_KEY": KEY},
    )
    try:
        line = process.stdout.readline().strip() if process.stdout else ""
        if not line.startswith(BANNER):
            raise SystemExit(f"emulator did not start: {line!r}")
        yield line[len(BANNER):]
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout:
            process.stdout.close()


def compile_sources() -> None:
    """Write the bytecode of chatsync and of bench/ (``__pycache__``, as ``pip install`` does for a
    package), so that no timed process spends its start-up compiling them (with
    ``PYTHONDONTWRITEBYTECODE`` set, each would otherwise compile chatsync's modules anew: about
    0.1 s of every command)."""
    spec = importlib.util.find_spec("chatsync")
    if spec is None or spec.origin is None:
        return
    package = Path(spec.origin).resolve().parent
    bench = Path(__file__).resolve().parent
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(package), str(bench)],
                   stdout=subprocess.DEVNULL, check=False)
