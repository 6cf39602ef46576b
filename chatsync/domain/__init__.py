"""The domain: desired and live state, plans, call strategy and reports; no I/O, no threads."""
