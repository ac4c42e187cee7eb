"""Valid-looking resident ID numbers for demo and test data (correct GB 11643 check digit)."""

from __future__ import annotations

from domain.identity import gb11643_check_digit


def resident_id(n: int, *, region: str = "110105", birth: str = "19880101") -> str:
    first17 = f"{region}{birth}{n % 1000:03d}"
    return first17 + gb11643_check_digit(first17)


def mobile(n: int) -> str:
    return f"139{n % 100_000_000:08d}"
