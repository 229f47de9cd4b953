"""Helpers shared by the test suite: real repositories and real servers."""
