"""``python -m chatsync`` runs the command-line interface."""

from chatsync.cli import main

if __name__ == "__main__":
    main()
