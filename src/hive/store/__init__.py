"""Persistence: SQLAlchemy Core tables and queries over one SQLite database (WAL)."""
