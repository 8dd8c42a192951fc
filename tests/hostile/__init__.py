"""Hostile input: each test keeps one hole closed."""
