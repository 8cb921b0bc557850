"""Fixtures for the server tests (defined in helpers.py, shared with the integration tests)."""

from __future__ import annotations

from tests.unit.server.helpers import server_adapters, server_model_path

__all__ = ["server_adapters", "server_model_path"]
