"""The engine: reads the live app, plans, applies, exports and keeps plan files."""
