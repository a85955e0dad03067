"""Translation catalogs of the workspace sections, one module per section.

Each module here defines `TEXTS: dict[str, tuple[str, str]]` (key: (zh, en)); `merged()`
joins them for `components.i18n`, refusing a key defined twice, so sections can grow their
texts side by side without editing one long file.
"""
from __future__ import annotations

import importlib
import pkgutil


def merged(base: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
    out: dict[str, tuple[str, str]] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        texts = getattr(importlib.import_module(f"{__name__}.{info.name}"), "TEXTS", {})
        for key, pair in texts.items():
            if key in base or key in out:
                raise ValueError(f"translation key {key!r} is defined twice (components/i18n_catalog/{info.name}.py)")
            if not (isinstance(pair, tuple) and len(pair) == 2 and all(isinstance(s, str) and s for s in pair)):
                raise ValueError(f"translation {key!r} needs a Chinese and an English text")
            out[key] = pair
    return out
