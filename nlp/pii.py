"""Masking of complainants' personal data (names, phone, ID, bank card, plate numbers).

Pure functions, applied at intake so that nothing past it (Kafka, Redis, screens, logs,
notifications) ever holds the unmasked value.
"""
from __future__ import annotations

import re

# Order matters: the longest digit runs first, so an ID number is not read as a phone.
_ID18 = re.compile(r"(?<![0-9A-Za-z])([1-9]\d{5})(\d{8})(\d{3}[0-9Xx])(?![0-9A-Za-z])")
_ID15 = re.compile(r"(?<![0-9A-Za-z])([1-9]\d{5})(\d{6})(\d{3})(?![0-9A-Za-z])")
_BANK = re.compile(r"(?<!\d)\d(?:[ -]?\d){15,18}(?!\d)")
_MOBILE = re.compile(r"(?<!\d)(\+?86[ -]?)?(1[3-9]\d)[ -]?(\d{4})[ -]?(\d{4})(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3})[ -]?(\d{3,4})(\d{4})(?!\d)")
_PLATE = re.compile(r"([京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼])([A-HJ-NP-Z])[·• ]?([A-HJ-NP-Z0-9]{4,5})([A-HJ-NP-Z0-9挂学警港澳])")
_EMAIL = re.compile(r"([A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]*(@[A-Za-z0-9.\-]+\.[A-Za-z]{2,})")


def mask_name(name: str) -> str:
    """张三 -> 张*, 欧阳娜娜 -> 欧***; keeps the family-name character only."""
    name = (name or "").strip()
    if not name:
        return ""
    return name[0] + "*" * max(1, len(name) - 1)


def mask_phone(phone: str) -> str:
    digits = re.sub(r"\D", "", phone or "")
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    if len(digits) < 8:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_id_number(value: str) -> str:
    v = re.sub(r"\s", "", value or "")
    if len(v) <= 5:
        return "*" * len(v)
    return v[:3] + "*" * (len(v) - 5) + v[-2:]


def _mask_card(m: re.Match) -> str:
    digits = re.sub(r"\D", "", m.group(0))
    return digits[:4] + "*" * (len(digits) - 8) + digits[-4:]


def mask_text(text: str, names: tuple[str, ...] = ()) -> str:
    """Mask PII found in free text: ID, bank card, phone numbers, plates, e-mail, given names."""
    if not text:
        return text
    t = _ID18.sub(lambda m: m.group(1)[:3] + "*" * 13 + m.group(3)[-2:], text)
    t = _ID15.sub(lambda m: m.group(1)[:3] + "*" * 10 + m.group(3)[-2:], t)
    t = _BANK.sub(_mask_card, t)
    t = _MOBILE.sub(lambda m: m.group(2) + "****" + m.group(4), t)
    t = _LANDLINE.sub(lambda m: m.group(1) + "-" + "*" * len(m.group(2)) + m.group(3), t)
    t = _PLATE.sub(lambda m: m.group(1) + m.group(2) + "***" + m.group(4), t)
    t = _EMAIL.sub(lambda m: m.group(1) + "***" + m.group(2), t)
    for n in names:
        n = (n or "").strip()
        if len(n) >= 2:
            t = t.replace(n, mask_name(n))
    return t


def mask_contact(contact) -> dict:
    """A complainant's contact (a dict with name/phone/id_number, or a bare string) masked.

    The result only ever holds masked values and ``masked: True``.
    """
    if contact in (None, "", {}):
        return {}
    if isinstance(contact, str):
        s = contact.strip()
        if re.fullmatch(r"[\d +\-()]{7,}", s):
            return {"phone": mask_phone(s), "masked": True}
        return {"name": mask_name(s), "masked": True}
    out: dict = {"masked": True}
    for key, value in contact.items():
        if value in (None, ""):
            continue
        value = str(value)
        if key in ("name", "姓名", "投诉人"):
            out["name"] = mask_name(value)
        elif key in ("phone", "mobile", "tel", "电话", "联系电话", "手机"):
            out["phone"] = mask_phone(value)
        elif key in ("id_number", "id_card", "身份证", "身份证号"):
            out["id_number"] = mask_id_number(value)
        elif key == "masked":
            continue
        else:
            out[key] = mask_text(value)
    return out
