"""Shared pytest setup: one throwaway Supabase-compatible stack per test session."""

pytest_plugins = ["tests.fixtures.stack", "tests.fixtures.api"]
