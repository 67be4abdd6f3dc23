"""Fixtures of the webhook tests: ``api_with`` builds an app with other settings (the private
addresses a test receiver listens on are refused by default)."""

from __future__ import annotations

from tests.limits.conftest import MakeApi, api_with

__all__ = ["MakeApi", "api_with"]
