"""Everything Hive does with git and with a cell's worktree directory.

All functions are async and never block the event loop: git runs as a subprocess,
file walking and copying run in worker threads or a worker process. Import from the
modules themselves: this package stays empty so the copy worker starts fast.
"""
