"""Pure domain: statuses, transitions, step names, error kinds. No I/O, no project imports."""
