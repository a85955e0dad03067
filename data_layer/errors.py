"""Errors the data layer raises with a message meant for a person."""
from __future__ import annotations


class UserError(Exception):
    """Something the user can fix: the message says what is wrong and what to do."""


class WarehouseError(UserError):
    """The warehouse cannot be reached, lacks a table, or answered with an error."""
