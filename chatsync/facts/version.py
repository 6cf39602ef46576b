"""The version of chatsync (the package's metadata, the User-Agent and ``--version`` say it)."""

VERSION = "0.1.0"
