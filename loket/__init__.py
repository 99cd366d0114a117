"""Loket: loket."""
