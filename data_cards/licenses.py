"""The license of a mixture, computed from the licenses of the rows and sources it contains.

A mixture has no license of its own: each row keeps the license of the data it came from. The
card therefore lists every source license in the Hub's `license` field (Hub ids, lowercase) and
derives the terms that bind the whole mixture: NonCommercial if any part is NC, ShareAlike if any
part is SA, NoDerivatives if any part is ND, and "check it yourself" for unknown or custom terms.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

import polars as pl
import pyarrow as pa

from instances import meta

UNKNOWN = "unknown"

# License ids the Hub accepts in a card's `license` field (a subset: those met in NLP data).
_HUB_LICENSES_TEXT = """
apache-2.0 mit openrail bigscience-openrail-m creativeml-openrail-m bigcode-openrail-m afl-3.0
artistic-2.0 bsl-1.0 bsd bsd-2-clause bsd-3-clause bsd-3-clause-clear c-uda cc cc0-1.0
cc-by-2.0 cc-by-2.5 cc-by-3.0 cc-by-4.0 cc-by-sa-3.0 cc-by-sa-4.0 cc-by-nc-2.0 cc-by-nc-3.0
cc-by-nc-4.0 cc-by-nd-4.0 cc-by-nc-nd-3.0 cc-by-nc-nd-4.0 cc-by-nc-sa-2.0 cc-by-nc-sa-3.0
cc-by-nc-sa-4.0 cdla-sharing-1.0 cdla-permissive-1.0 cdla-permissive-2.0 wtfpl ecl-2.0 epl-1.0
epl-2.0 etalab-2.0 eupl-1.1 eupl-1.2 agpl-3.0 gfdl gpl gpl-2.0 gpl-3.0 lgpl lgpl-2.1 lgpl-3.0
isc lppl-1.3c ms-pl mpl-2.0 odc-by odbl openrail++ osl-3.0 postgresql ofl-1.1 ncsa unlicense
zlib pddl lgpl-lr deepfloyd-if-license llama2 llama3 llama3.1 llama3.2 gemma unknown other
"""
HUB_LICENSES = frozenset(_HUB_LICENSES_TEXT.split())


def normalize_license(name: str | None) -> str:
    """A Hub license id for a license name as sources spell it ("CC BY-NC 4.0" -> cc-by-nc-4.0).

    >>> normalize_license("CC BY-NC-SA 4.0")
    'cc-by-nc-sa-4.0'
    >>> normalize_license("Apache 2.0")
    'apache-2.0'
    """
    if not name or not name.strip():
        return UNKNOWN
    text = name.strip().lower()
    text = re.sub(r"^(the\s+)?creative\s+commons\s+", "cc-", text)
    text = re.sub(r"\s*license$", "", text)
    text = text.replace("attribution", "by").replace("noncommercial", "nc")
    text = text.replace("sharealike", "sa").replace("noderivatives", "nd")
    text = re.sub(r"[\s_/]+", "-", text)
    text = re.sub(r"-+", "-", text).strip("-")
    text = re.sub(r"^cc-?by", "cc-by", text)
    text = re.sub(r"-(\d)$", r"-\1.0", text)  # cc-by-4 -> cc-by-4.0
    text = {"apache": "apache-2.0", "cc0": "cc0-1.0", "public-domain": "cc0-1.0"}.get(text, text)
    return text


def terms(license_id: str) -> dict[str, bool]:
    """What a license id says about use: non_commercial, share_alike, no_derivatives, known."""
    parts = license_id.split("-")
    return {
        "non_commercial": license_id.startswith("cc") and "nc" in parts,
        "share_alike": "sa" in parts or license_id.startswith(("gpl", "agpl", "cdla-sharing")),
        "no_derivatives": license_id.startswith("cc") and "nd" in parts,
        "known": license_id in HUB_LICENSES and license_id not in (UNKNOWN, "other"),
    }


def is_non_commercial(license_id: str) -> bool:
    """True for Creative Commons NonCommercial licenses (cc-by-nc-*).

    >>> is_non_commercial("cc-by-nc-sa-4.0"), is_non_commercial("cc-by-sa-4.0")
    (True, False)
    """
    return terms(normalize_license(license_id))["non_commercial"]


def row_licenses(tables: dict[str, pa.Table]) -> Counter:
    """Rows per (source, license id), from each row's `meta.license` and `meta.license_ids`
    (the licenses of a row's parts, e.g. a Natural Instructions task definition and its
    instance); a row with several counts under each; unknown when it has none."""
    raw: Counter = Counter()
    for table in tables.values():
        frame = pl.DataFrame(
            {
                "source": table.column("source").to_pylist(),
                "license": meta.strings(table.column("meta"), "license"),
                "ids": meta.strings(table.column("meta"), "license_ids"),
            },
            schema={"source": pl.String, "license": pl.String, "ids": pl.String},
        )
        for source, value, ids, n in frame.group_by("source", "license", "ids").len().iter_rows():
            raw[(source, value, ids)] += n
    counts: Counter = Counter()
    for (source, value, ids), n in raw.items():
        names = {value} if value is not None else set()
        try:
            parsed = json.loads(ids) if ids else []
        except json.JSONDecodeError:
            parsed = []
        names |= {x for x in parsed if isinstance(x, str)} if isinstance(parsed, list) else set()
        for license_id in {normalize_license(x) for x in names} or {UNKNOWN}:
            counts[(source, license_id)] += n
    return counts


def mixture_license(rows: Counter, declared: list[str]) -> dict[str, Any]:
    """The mixture's license metadata and terms, from rows per (source, license) and the
    licenses the recipe's generators declare.

    Returns {"ids": sorted Hub ids (the card's `license` value), "other": names the Hub does
    not know, "by_source": [{"source", "license", "rows"}], "non_commercial", "share_alike",
    "no_derivatives", "unknown": bool, "nc_sources": sources holding NC rows,
    "unknown_sources": sources holding rows of unknown or custom terms}.
    """
    found = {lic for (_, lic) in rows} | {normalize_license(lic) for lic in declared}
    unknown = UNKNOWN in found or "other" in found or not found
    ids = sorted(lic for lic in found if lic in HUB_LICENSES and lic != UNKNOWN)
    other = sorted(lic for lic in found if lic not in HUB_LICENSES)
    if other or unknown:
        ids.append("other")
    flags = [terms(lic) for lic in found]
    by_source = [
        {"source": source, "license": lic, "rows": n}
        for (source, lic), n in sorted(rows.items(), key=lambda item: (item[0][0], -item[1]))
    ]
    return {
        "ids": sorted(set(ids)),
        "other": other,
        "by_source": by_source,
        "non_commercial": any(flag["non_commercial"] for flag in flags),
        "share_alike": any(flag["share_alike"] for flag in flags),
        "no_derivatives": any(flag["no_derivatives"] for flag in flags),
        "unknown": unknown or bool(other),
        "nc_sources": sorted({s for (s, lic) in rows if terms(lic)["non_commercial"]}),
        "unknown_sources": sorted({s for (s, lic) in rows if not terms(lic)["known"]}),
    }
