"""The pure conversation engine: no I/O, no clock of its own."""
