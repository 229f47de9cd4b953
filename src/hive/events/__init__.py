"""Live events: the in-process bus that tells subscribers the event log grew."""
