"""The password policy: length, letters and digits, not the user's own name, not a common password."""
from __future__ import annotations

import re
from functools import cache

from data_layer.errors import UserError

MIN_LENGTH = 10
# Favourites of Chinese password leaks that zxcvbn's (English-language) list lacks.
_MORE_COMMON = frozenset({"woaini1314", "woaini520", "a123456789", "aa123456", "qq123456", "abc123456", "123456abc",
                          "123456789a", "1234qwer", "1qaz2wsx", "1q2w3e4r", "88888888", "woaini", "wodemima"})


class PasswordPolicyError(UserError):
    """A password that breaks the policy; `code` names the rule for the translation catalogs."""

    MESSAGES = {
        "too_short": f"the password needs at least {MIN_LENGTH} characters",
        "needs_letter_digit": "the password needs both letters and digits",
        "contains_username": "the password must not contain the user name",
        "contains_name": "the password must not contain the user's name",
        "common": "the password is one of the most common passwords",
        "common_base": "the password is a common word or password with only digits or symbols added",
    }

    def __init__(self, code: str):
        self.code = code
        super().__init__(self.MESSAGES[code])


@cache
def common_passwords() -> frozenset[str]:
    """The 30,000 most common passwords of zxcvbn's list and a few Chinese favourites, lower case."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"]) | _MORE_COMMON


@cache
def _common_words() -> frozenset[str]:
    """Common passwords and every word of zxcvbn's other lists (English words from Wikipedia and
    film subtitles, first names, surnames): about 94,000."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return common_passwords().union(*FREQUENCY_LISTS.values())


def name_parts(name: str) -> set[str]:
    """Pieces of a name a password must not contain, lower case: the whole name, with and without
    its separators, and each part of at least 4 letters (2 for Chinese characters: 王芳)."""
    whole = name.strip().lower()
    pieces = [p for p in re.split(r"[\W_]+", whole) if p]
    parts = {p for p in pieces if len(p) >= 4 or (len(p) >= 2 and not p.isascii())}
    parts |= {w for w in (whole, "".join(pieces)) if len(w) >= 3}
    return parts


def password_problem(password: str, username: str = "", display_name: str = "") -> str | None:
    """The rule a password breaks (a PasswordPolicyError code), or None."""
    if len(password) < MIN_LENGTH:
        return "too_short"
    if not (re.search(r"[A-Za-z]", password) and re.search(r"\d", password)):
        return "needs_letter_digit"
    lowered = password.lower()
    if any(part in lowered for part in name_parts(username)):
        return "contains_username"
    if any(part in lowered for part in name_parts(display_name)):
        return "contains_name"
    if lowered in common_passwords():
        return "common"
    word = re.fullmatch(r"[\W\d_]*([^\W\d_]+)[\W\d_]*", lowered)  # Password123 -> password, 2024@hospital -> hospital
    if word and word.group(1) in _common_words():
        return "common_base"
    return None
