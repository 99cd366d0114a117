"""Loket: voice."""
