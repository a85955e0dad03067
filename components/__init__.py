"""Pure functions that turn data into components and figures: no I/O, no callbacks."""
