"""Fact tables: pure data about the API, imported by every layer."""
