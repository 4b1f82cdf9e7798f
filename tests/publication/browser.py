"""Browser steps shared by the publication tests (Playwright page, live server)."""
from __future__ import annotations

from typing import Any


def log_in(page: Any, live_server: str, name: str, password: str) -> None:
    """Log in through CKAN's form (a real session, with its CSRF token)."""
    page.goto(f"{live_server}/user/login")
    page.fill("#field-login", name)
    page.fill("#field-password", password)
    page.locator("#field-password").press("Enter")
    page.wait_for_load_state()
