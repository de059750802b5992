"""Checks and normal forms for the identifiers a declaration carries.

Plates: Vietnamese forms (``14C-123.45``, ``29LD-123.45``, ``14C-1234``) and Chinese forms
(``桂A12345``, new-energy ``桂AD12345``; a middle dot or spaces are ignored). Containers:
ISO 6346 numbers with the check digit verified. Declarants: a Vietnamese tax code (10 digits,
or 13 as ``0123456789-001`` for a branch) or a foreign company id ``CC:ID`` (e.g. a Chinese
unified social credit code ``CN:91450100MA5KXXXX0X``). HS codes: 4, 6, 8 or 10 digits.

Digits are ASCII digits, and letters ASCII letters, everywhere: Python's ``\\d`` also matches
the digits of other scripts (fullwidth ``１``, Arabic-Indic ``١``), and one truck or one company
must not have two spellings that both pass, or it could be declared twice, or dodge a rule that
names it. Tax codes, HS codes and container numbers in other digits are refused. Plates are
first brought to their normal form (``normalize_plate``), which folds the fullwidth forms a
Chinese or Japanese keyboard types in full-width mode (``１２Ｃ－０００．０１``) to ASCII, since
those are the same characters to the driver and the officer; other scripts' digits stay as they
are, and such a plate is refused.

All functions here are pure and fast: they run on every plate read.
"""

from __future__ import annotations

import re

_VN_PLATE = re.compile(r"([0-9]{2})([A-Z]{1,2}[0-9]?)-([0-9]{3}\.[0-9]{2}|[0-9]{4,5})")
_CN_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_CN_PLATE = re.compile(rf"[{_CN_PROVINCES}][A-Z][A-HJ-NP-Z0-9]{{5,6}}")
_VN_TAX_CODE = re.compile(r"[0-9]{10}(-[0-9]{3})?")
_FOREIGN_ID = re.compile(r"[A-Z]{2}:[A-Z0-9][A-Z0-9-]{3,31}")
_HS_CODE = re.compile(r"[0-9]{4}([0-9]{2}){0,3}")
_COUNTRY = re.compile(r"[A-Z]{2}")
_CONTAINER = re.compile(r"[A-Z]{3}[UJZ][0-9]{7}")
# Every pattern is applied with ``fullmatch``: ``$`` would also accept a trailing newline.

#: Spaces and the dots written between a Chinese plate's letters and digits: a space, the middle
#: dot, the bullet, the katakana middle dot and its halfwidth form, the ideographic space.
_NOISE_CHARS = " ·•・･\u3000"
#: The plate normal form's one translation: noise dropped, fullwidth forms (U+FF01-U+FF5E)
#: folded to their ASCII characters.
_PLATE_NOISE = str.maketrans(
    {**{ord(c): None for c in _NOISE_CHARS}, **{code: code - 0xFF01 + 0x21 for code in range(0xFF01, 0xFF5F)}})
_SPACE = _NOISE_CHARS[0]

#: Characters plate readers confuse; mapping both sides of each pair to one form lets the core
#: suggest the declared plate a misread was probably meant to be (never to accept it silently).
_CONFUSABLE = str.maketrans({"O": "0", "Q": "0", "D": "0", "B": "8", "I": "1", "L": "1", "Z": "2", "S": "5", "G": "6"})


def normalize_plate(raw: str) -> str:
    """Upper-case, drop spaces and middle dots, fold fullwidth forms to ASCII. Idempotent."""
    if not raw.isascii() or _SPACE in raw:  # usually neither: two checks cost less than translate
        raw = raw.translate(_PLATE_NOISE)
    return raw.upper()


def plate_problem(plate: str) -> str | None:
    """Why ``plate`` (normalized) is not a Vietnamese or Chinese plate, or None if it is one."""
    if _VN_PLATE.fullmatch(plate):
        province = int(plate[:2])
        if 11 <= province <= 99:
            return None
        return f"Vietnamese province code must be 11-99 (got {plate[:2]})"
    if _CN_PLATE.fullmatch(plate):
        return None
    return "not a Vietnamese (e.g. 14C-123.45) or Chinese (e.g. 桂A12345) plate"


def confusable_key(plate: str) -> str:
    """A key under which plates differing only by commonly confused characters collide."""
    return plate.translate(_CONFUSABLE)


_ISO6346_LETTERS: dict[str, int] = {}
_value = 10
for _letter in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
    if _value % 11 == 0:
        _value += 1
    _ISO6346_LETTERS[_letter] = _value
    _value += 1


def iso6346_check_digit(first_ten: str) -> int:
    """The check digit of an ISO 6346 container number's first ten characters."""
    total = 0
    for i, ch in enumerate(first_ten):
        v = _ISO6346_LETTERS[ch] if ch.isalpha() else int(ch)
        total += v << i
    return total % 11 % 10


def container_problem(number: str) -> str | None:
    """Why ``number`` is not a valid ISO 6346 container number, or None."""
    if not _CONTAINER.fullmatch(number):
        return "must be 3 owner letters, a category letter (U, J or Z), 6 digits and a check digit"
    expected = iso6346_check_digit(number[:10])
    if int(number[10]) != expected:
        return f"ISO 6346 check digit is wrong: expected {expected}, got {number[10]}"
    return None


def declarant_problem(declarant_id: str) -> str | None:
    """Why ``declarant_id`` is not a Vietnamese tax code or a foreign company id, or None."""
    if _VN_TAX_CODE.fullmatch(declarant_id) or _FOREIGN_ID.fullmatch(declarant_id):
        return None
    return "must be a Vietnamese tax code (0123456789 or 0123456789-001) or a foreign id CC:ID"


def hs_code_problem(code: str) -> str | None:
    """Why ``code`` (digits only) is not an HS code of an existing chapter, or None."""
    if _HS_CODE.fullmatch(code):
        chapter = int(code[:2])
        if 1 <= chapter <= 97 and chapter != 77:
            return None
        return f"HS chapter {code[:2]} does not exist"
    return "must be 4, 6, 8 or 10 digits"


def country_problem(code: str) -> str | None:
    """Why ``code`` is not an ISO 3166 alpha-2 country code, or None."""
    if _COUNTRY.fullmatch(code):
        return None
    return "must be an ISO 3166 alpha-2 country code such as VN or CN"
