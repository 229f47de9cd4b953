"""One router per page (or family of pages)."""
