"""Domain values: canonical events, time helpers. Standard library only, no I/O."""
