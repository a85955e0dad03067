"""`python -m data_layer …`: the command line."""
from .cli import main

raise SystemExit(main())
