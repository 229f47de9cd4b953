"""Agent adapters: what runs in a cell's worktree and how Hive talks to it."""
