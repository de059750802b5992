"""Tests of the dashboard: its computations, background runs, launcher and every page."""
