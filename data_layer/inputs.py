"""Values people type into the pages (a tolerance, a window in days, a date), checked by small
declared models (pydantic). A failure is an InputProblem whose `code` says what was wrong and
whose `params` carry what the message needs (the allowed range, the text typed), so every page
words the same failure the same way, in both languages (catalog keys `input.<code>`)."""
from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, Field, TypeAdapter, ValidationError

M = TypeVar("M", bound=BaseModel)


class InputProblem(ValueError):
    """A typed value that does not fit its field: `code` (missing, not_number, not_whole,
    out_of_range, not_date) and the message's parameters."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


# C0 controls but tab, newline and carriage return; DEL; lone UTF-16 surrogates (no database stores them)
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def has_unprintable(text: str) -> bool:
    """Whether `text` holds a character no database column should receive (NUL, other controls)."""
    return _UNPRINTABLE.search(text) is not None


def clean_text(text: str, size: int | None = None) -> str:
    """`text` as a database may store it: each NUL, other control character (tab and line breaks
    stay) or lone surrogate replaced by U+FFFD, so the value still differs from every clean value
    (a lookup finds nothing), and cut to `size` characters."""
    text = _UNPRINTABLE.sub(REPLACEMENT, text)
    return text[:size] if size is not None else text


def _shown(x: float) -> str:
    """A bound or a typed number as a person writes it (no 1e+09, no trailing .0)."""
    if math.isfinite(x) and abs(x) < 1e15:
        return f"{x:,.6f}".rstrip("0").rstrip(".") if x != int(x) else f"{int(x):,}"
    return str(x)


def number(raw: Any, low: float, high: float, *, whole: bool = False) -> float:
    """`raw` (what the input field sent: a number, a numeric text, or None when the browser
    could not read it) as a number from `low` to `high` inclusive; InputProblem otherwise.
    whole=True asks for a whole number (7.0 is 7)."""
    rng = {"low": _shown(low), "high": _shown(high)}
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise InputProblem("missing", **rng)
    if isinstance(raw, bool):
        raise InputProblem("not_number", **rng)
    adapter = _ADAPTERS[whole]
    try:
        value = adapter.validate_python(raw.strip() if isinstance(raw, str) else raw)
    except ValidationError as exc:
        kind = exc.errors()[0]["type"]
        if whole and kind in ("int_from_float", "int_parsing") and _is_number(raw):
            raise InputProblem("not_whole", value=_shown(float(raw)), **rng) from None
        raise InputProblem("not_number", **rng) from None
    if not low <= value <= high:
        raise InputProblem("out_of_range", value=_shown(float(value)), **rng)
    return value


def _is_number(raw: Any) -> bool:
    try:
        return math.isfinite(float(raw))
    except (TypeError, ValueError):
        return False


def calendar_date(raw: Any) -> date:
    """`raw` (a date, or text written YYYY-MM-DD) as a date; InputProblem("not_date") for text
    that is not a real calendar day (2030-13-45), InputProblem("missing") for nothing."""
    if isinstance(raw, date):
        return raw
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise InputProblem("missing")
    text = str(raw).strip()
    try:
        return _DATE.validate_python(text[:10] if len(text) > 10 and text[10] in "T " else text)
    except ValidationError:
        raise InputProblem("not_date", value=text[:40]) from None


_ADAPTERS = {False: TypeAdapter(Annotated[float, Field(allow_inf_nan=False, strict=False)]),
             True: TypeAdapter(Annotated[int, Field(strict=False)])}
_DATE = TypeAdapter(date)


# ----------------------------------------------------------------------------------- forms
# A form (a project, an appraisal, thresholds, a user) is a pydantic model; `read_form` checks
# every field at once and names each one that does not fit with an InputProblem, so the page can
# put the message beside its field, in the reader's language (catalog keys `input.<code>`).
# Inside a model's validators, raise InputProblem(code, **params) for a rule of the domain.

_PYDANTIC_CODES = {
    "missing": "missing", "none_required": "missing",
    "float_parsing": "not_number", "float_type": "not_number", "int_parsing": "not_number", "int_type": "not_number",
    "finite_number": "not_number", "int_from_float": "not_whole",
    "greater_than": "out_of_range", "greater_than_equal": "out_of_range", "less_than": "out_of_range",
    "less_than_equal": "out_of_range", "string_too_long": "too_long", "string_too_short": "missing",
    "literal_error": "not_choice", "enum": "not_choice", "date_parsing": "not_date", "date_from_datetime_parsing":
    "not_date", "date_type": "not_date", "string_type": "not_text", "list_type": "not_choice",
}


class FormProblems(ValueError):
    """The fields of a form that do not fit: field name -> InputProblem (the first problem of each)."""

    def __init__(self, problems: dict[str, InputProblem]) -> None:
        super().__init__(", ".join(f"{k}: {v.code}" for k, v in problems.items()))
        self.problems = problems


def _bounds(model: type[BaseModel], field: str) -> dict[str, str]:
    """The declared range of a model's field (low, high, max length), as a message shows it."""
    info = model.model_fields.get(field)
    out: dict[str, str] = {}
    for meta in info.metadata if info is not None else ():
        for key, name in (("ge", "low"), ("gt", "low"), ("le", "high"), ("lt", "high"), ("max_length", "high")):
            value = getattr(meta, key, None)
            if isinstance(value, int | float) and not isinstance(value, bool):
                out[name] = _shown(float(value))
    return out


def _problem(model: type[BaseModel], field: str, err: Mapping[str, Any]) -> InputProblem:
    ctx = dict(err.get("ctx") or {})
    inner = ctx.get("error")
    if isinstance(inner, InputProblem):
        return inner
    raw = err.get("input")
    code = "missing" if raw is None else _PYDANTIC_CODES.get(str(err.get("type")), "invalid")
    params: dict[str, Any] = _bounds(model, field)
    if code == "out_of_range" and isinstance(raw, int | float) and not isinstance(raw, bool):
        params["value"] = _shown(float(raw))
    return InputProblem(code, **params)


def read_form(model: type[M], values: Mapping[str, Any], context: Any = None) -> M:
    """`values` (what the page's fields sent) checked by the declared `model`; FormProblems naming
    every field that does not fit. Blank text counts as missing. `context` reaches the model's
    validators (pydantic's ValidationInfo.context) for rules that depend on more than the form,
    such as the reader's scope."""
    cleaned = {k: (None if isinstance(v, str) and not v.strip() else v) for k, v in values.items()}
    try:
        return model.model_validate(cleaned, context=context)
    except ValidationError as exc:
        problems: dict[str, InputProblem] = {}
        for err in exc.errors():
            field = str(err["loc"][0]) if err.get("loc") else "_form"
            problems.setdefault(field, _problem(model, field, err))
        raise FormProblems(problems) from None
