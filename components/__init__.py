"""Pure functions that turn data into components and figures: no I/O, no callbacks."""
from . import charts  # noqa: F401 - registers the figures' templates before any figure is built
