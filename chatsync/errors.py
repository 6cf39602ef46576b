"""User-facing errors: one exception type the CLI turns into a short message and an exit code."""

from __future__ import annotations


class ChatsyncError(Exception):
    """An error the user can act on. Its text is shown as is (one or two lines, no traceback)."""

    exit_code = 1

    def report(self) -> list[str]:
        """The lines to print on stderr."""
        return [f"Error: {self}"]
