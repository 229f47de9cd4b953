"""Keeping what Hive owns in order: finding and removing leftovers no cell accounts for."""
