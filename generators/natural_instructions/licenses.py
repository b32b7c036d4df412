"""Instance License names as task files write them, mapped to Hugging Face Hub license ids."""

from __future__ import annotations

import re

_CREATIVE_COMMONS = re.compile(
    r"^cc[\s-]*by((?:[\s-]+(?:nc|sa|nd))*)[\s-]*(\d\.\d)(?:\b|$)", re.IGNORECASE
)
_NAMED = {
    "apache": "apache-2.0",
    "apache 2.0": "apache-2.0",
    "apache-2.0": "apache-2.0",
    "apache license 2.0": "apache-2.0",
    "mit": "mit",
    "afl 3.0": "afl-3.0",
    "bsd": "bsd",
    "bsd 3-clause": "bsd-3-clause",
    "gpl 3.0": "gpl-3.0",
    "cc0": "cc0-1.0",
    "cc0 1.0": "cc0-1.0",
    "odc-by": "odc-by",
    "odbl": "odbl",
    "unknown": "unknown",
}


def license_id(name: str) -> str:
    """The Hub license id of an Instance License name; `other` when it has no standard id.

    >>> license_id("CC BY-NC-ND 4.0"), license_id("Apache 2.0"), license_id("Public Domain")
    ('cc-by-nc-nd-4.0', 'apache-2.0', 'other')
    """
    text = name.strip()
    match = _CREATIVE_COMMONS.match(text)
    if match:
        parts = [part.lower() for part in re.split(r"[\s-]+", match.group(1)) if part]
        return "-".join(["cc", "by", *parts, match.group(2)])
    return _NAMED.get(text.lower(), "other")
