"""How services are hosted: all in one process (embedded) or one process each."""
