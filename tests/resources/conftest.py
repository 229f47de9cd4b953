"""The store fixtures (a real migrated database, cells to fill it) for resource tests."""

from tests.store.conftest import cells, db, db_path, make_cell, workspace

__all__ = ["cells", "db", "db_path", "make_cell", "workspace"]
