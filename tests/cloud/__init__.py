"""Tests for appliance.cloud (FAXAGE client)."""
