"""Processes Hive starts for a cell: shell commands now, supervised services later."""
