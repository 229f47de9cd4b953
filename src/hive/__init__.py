"""Hive: isolated cells for AI coding agents working side by side on one repository."""

__version__ = "0.1.0"
