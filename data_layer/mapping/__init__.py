"""Map a hospital's own tables onto the warehouse contract with one declarative file (docs/onboarding.md).

`load_mapping` reads the file (YAML or TOML) with the line of every key; `check_mapping` reports what
maps and what does not; `apply_mapping` creates the contract as views (or tables) in a schema and
`drop_mapping` removes exactly what it created. Expressions are parsed into a small grammar
(data_layer/mapping/expr.py) and compiled with SQLAlchemy: no text of the mapping reaches SQL as is.
"""
from __future__ import annotations

from .apply import Applied, MappingRefused, apply_mapping, contract_url, drop_mapping
from .check import CheckReport, check_mapping, format_check
from .model import Located, MappingFileError, load_mapping, parse_mapping

__all__ = ["Applied", "CheckReport", "Located", "MappingFileError", "MappingRefused", "apply_mapping",
           "check_mapping", "contract_url", "drop_mapping", "format_check", "load_mapping", "parse_mapping"]
