"""Loket: telephony."""
