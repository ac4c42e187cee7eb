"""Customers with their personal data encrypted, a blind index for exact look-up and masks for display."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from db.models import Customer
from db.pii import PiiCipher
from domain.identity import (
    IdType,
    mask_id_number,
    mask_mobile,
    normalize_id_number,
    normalize_mobile,
)


def new_customer(
    session: Session,
    cipher: PiiCipher,
    *,
    name: str,
    id_type: IdType | str,
    id_number: str,
    mobile: str,
    consultant_id: int | None,
    today: date,
    rating: str = "B",
) -> Customer:
    """Validates (raises domain.identity.InvalidIdentity) and stores a customer; flushes, never commits."""
    id_type = IdType(id_type)
    id_norm = normalize_id_number(id_type, id_number, today=today)
    mobile_norm = normalize_mobile(mobile)
    customer = Customer(
        name=name,
        id_type=id_type.value,
        id_number_enc=cipher.encrypt(id_norm),
        id_number_bidx=cipher.blind_index(f"id.{id_type.value}", id_norm),
        id_number_masked=mask_id_number(id_norm),
        mobile_enc=cipher.encrypt(mobile_norm),
        mobile_bidx=cipher.blind_index("mobile", mobile_norm),
        mobile_masked=mask_mobile(mobile_norm),
        consultant_id=consultant_id,
        rating=rating,
        tags=[],
    )
    session.add(customer)
    session.flush()
    return customer


def identity_matches(cipher: PiiCipher, customer: Customer, *, id_number: str, mobile: str, today: date) -> tuple[bool, bool]:
    """(ID matches, mobile matches) the buyer on record; compares blind indexes, never clear text."""
    id_norm = normalize_id_number(customer.id_type, id_number, today=today)
    mobile_norm = normalize_mobile(mobile)
    id_ok = cipher.blind_index(f"id.{customer.id_type}", id_norm) == customer.id_number_bidx
    phone_ok = cipher.blind_index("mobile", mobile_norm) == customer.mobile_bidx
    return id_ok, phone_ok
