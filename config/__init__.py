"""Typed settings: ``load_settings()`` and the :class:`Settings` object."""

from config.settings import ConfigError, Settings, load_settings

__all__ = ["ConfigError", "Settings", "load_settings"]
