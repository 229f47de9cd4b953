"""Workflows that make, repair and remove cells: ordered steps, timed and persisted."""
