"""Tests for the simulated FAXAGE service."""
