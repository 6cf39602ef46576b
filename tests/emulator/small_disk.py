"""``python -m tests.emulator.small_disk ARGS``: ``chatsync emulator ARGS`` on a pretend small disk.

The durability test's injected failing writer, which runs on any machine (no mount needed): every
write of the state file first checks the bytes already in the state's folder plus the new file's
against the capacity written in the file named by ``$SMALL_DISK_CAPACITY_FILE`` (read at each
write, so the test can fill and free the disk), and fails with ENOSPC like a full disk when it
would not fit. Everything else is the real emulator and the real atomic write.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from chatsync.cli import main as cli
from chatsync.emulator import store


def install(capacity_file: Path) -> None:
    """Put the small-disk check in front of the store's atomic write."""
    real_write = store._atomic_write

    def small_disk_write(path: Path, data: bytes, fsync: bool) -> None:
        capacity = int(capacity_file.read_text())
        folder = path.parent
        used = sum(entry.stat().st_size for entry in folder.iterdir() if entry.is_file())
        if used + len(data) > capacity:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_write(path, data, fsync)

    store._atomic_write = small_disk_write


if __name__ == "__main__":
    install(Path(os.environ["SMALL_DISK_CAPACITY_FILE"]))
    cli(prog_name="chatsync")
