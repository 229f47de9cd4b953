"""A cell's first prompt: its fragments found, rendered and joined (see `assemble`)."""
