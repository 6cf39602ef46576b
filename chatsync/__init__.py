"""chatsync: Terraform for Tencent Cloud Chat accounts.

Declare the bots and accounts an app must have in YAML; ``chatsync plan`` diffs them against the
live app and ``chatsync apply`` converges it. ``chatsync emulator`` runs a local stand-in for the
Chat REST API so all of it works without a Tencent account.
"""

__version__ = "0.1.0"
