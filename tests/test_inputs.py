"""Declared forms (data_layer/inputs.read_form): every field that does not fit is named, with its range."""
from __future__ import annotations

from typing import Literal

import pytest
from pydantic import BaseModel, Field, field_validator

from data_layer.inputs import FormProblems, InputProblem, read_form


class Form(BaseModel):
    title: str = Field(max_length=5)
    share: float = Field(ge=1, le=50)
    kind: Literal["a", "b"]
    days: int = Field(ge=1, le=365)

    @field_validator("title")
    @classmethod
    def no_x(cls, v: str) -> str:
        if "x" in v:
            raise InputProblem("bad_title", value=v)
        return v


def _problems(values: dict) -> dict[str, tuple[str, dict]]:
    with pytest.raises(FormProblems) as bad:
        read_form(Form, values)
    return {k: (p.code, p.params) for k, p in bad.value.problems.items()}


def test_a_declared_form_names_every_field_that_does_not_fit_with_its_range() -> None:
    got = _problems({"title": "abcdefg", "share": "70", "kind": "c", "days": 7.5})
    assert got["title"] == ("too_long", {"high": "5"})
    assert got["share"] == ("out_of_range", {"low": "1", "high": "50"})
    assert got["kind"] == ("not_choice", {})
    assert got["days"][0] == "not_whole"


def test_blank_fields_are_missing_and_domain_rules_keep_their_own_code() -> None:
    assert {k: v[0] for k, v in _problems({"title": "  ", "share": "abc", "kind": None, "days": 3}).items()} == {
        "title": "missing", "share": "not_number", "kind": "missing"}
    assert _problems({"title": "xy", "share": 2, "kind": "a", "days": 3}) == {"title": ("bad_title", {"value": "xy"})}


def test_a_form_that_fits_comes_back_typed() -> None:
    ok = read_form(Form, {"title": "ab", "share": "7.5", "kind": "a", "days": "30"})
    assert (ok.title, ok.share, ok.kind, ok.days) == ("ab", 7.5, "a", 30)
