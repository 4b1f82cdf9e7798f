"""Browser fixtures (live_server, page, screenshot) live in tests/conftest.py."""
