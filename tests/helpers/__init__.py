"""Helpers shared by test modules: API calls, live servers, browsers, fault clusters."""
