"""The real landing page in headless Chromium."""
from __future__ import annotations

import pytest

from app import create_app

pytestmark = pytest.mark.browser


def test_landing_page_renders_cards_and_freshness(dash_duo, app_env: dict[str, str]) -> None:
    server = create_app(app_env)
    dash_duo.start_server(server.extensions["dash"])
    dash_duo.wait_for_element("#freshness", timeout=20)
    assert "2026-11-21" in dash_duo.find_element("#freshness").text
    cards = dash_duo.find_elements(".stat-card")
    assert len(cards) >= 16
    assert dash_duo.get_logs() == [], "browser console has errors"
