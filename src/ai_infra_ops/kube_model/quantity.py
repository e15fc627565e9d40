"""Kubernetes resource quantities (``resource.Quantity``): parse, compare, print canonically.

Values are exact :class:`fractions.Fraction`. ``parse_quantity("12Gx")`` raises ``ValueError`` with
Kubernetes' own wording (``quantities must match the regular expression ...``); callers attach the
file/line/field. ``format_quantity`` follows apimachinery's canonical form closely enough for
messages (``500m``, ``8Gi``, ``48``).
"""
from __future__ import annotations

import re
from fractions import Fraction

Quantity = Fraction

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"n": Fraction(1, 10**9), "u": Fraction(1, 10**6), "m": Fraction(1, 1000), "": Fraction(1),
            "k": Fraction(10**3), "M": Fraction(10**6), "G": Fraction(10**9), "T": Fraction(10**12),
            "P": Fraction(10**15), "E": Fraction(10**18)}
_RE = re.compile(r"^([+-]?[0-9.]+)([eE][+-]?[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$")
QUANTITY_REGEX_TEXT = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"


def parse_quantity(value: object) -> Fraction:
    """Parse a quantity given as str/int/float.

    Raises:
        ValueError: with Kubernetes' message for malformed quantities.
    """
    if isinstance(value, bool):
        raise ValueError(f"quantities must match the regular expression '{QUANTITY_REGEX_TEXT}'")
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        return Fraction(str(value))
    s = str(value).strip()
    m = _RE.match(s)
    if not m or m.group(1) in ("", ".", "+", "-") or m.group(1).count(".") > 1:
        raise ValueError(f"quantities must match the regular expression '{QUANTITY_REGEX_TEXT}'")
    num = Fraction(m.group(1))
    if m.group(2):
        num *= Fraction(10) ** int(m.group(2)[1:])
    suffix = m.group(3) or ""
    if suffix in _BINARY:
        return num * _BINARY[suffix]
    return num * _DECIMAL[suffix]


def is_integer(q: Fraction) -> bool:
    return q.denominator == 1


def format_quantity(q: Fraction, *, binary: bool = False) -> str:
    """Canonical-ish string: integers plain (or with a binary suffix when exact and ``binary``),
    sub-unit values in ``m``/``u``/``n``."""
    if q.denominator == 1:
        n = q.numerator
        if binary and n != 0:
            for suf in ("Ei", "Pi", "Ti", "Gi", "Mi", "Ki"):
                mult = _BINARY[suf]
                if n % mult == 0:
                    return f"{n // mult}{suf}"
        if not binary and n != 0 and n % 1000 == 0:
            for suf, mult in (("E", 10**18), ("P", 10**15), ("T", 10**12), ("G", 10**9), ("M", 10**6), ("k", 10**3)):
                if n % mult == 0:
                    return f"{n // mult}{suf}"
        return str(n)
    for suf, mult in (("m", 1000), ("u", 10**6), ("n", 10**9)):
        v = q * mult
        if v.denominator == 1:
            return f"{v.numerator}{suf}"
    v = q * 10**9
    return f"{-(-v.numerator // v.denominator)}n"


def to_milli(q: Fraction) -> int:
    """Milli-units rounded up (how the scheduler counts cpu)."""
    v = q * 1000
    return -(-v.numerator // v.denominator)


def to_int_ceil(q: Fraction) -> int:
    """Whole units rounded up (how the scheduler counts memory/pods/extended resources)."""
    return -(-q.numerator // q.denominator)
