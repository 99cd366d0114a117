"""Loket: dialogue."""
