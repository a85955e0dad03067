"""`python -m appdb …`: manage users of the application database."""
from .cli import main

raise SystemExit(main())
