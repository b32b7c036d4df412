"""Endpoint helpers of the LLM client: URL checks, credentials out of URLs, Retry-After."""

from __future__ import annotations

import email.utils
import re
import time
import urllib.parse
from typing import Any, Literal

Api = Literal["auto", "completions", "chat"]
"""Which API a run calls: completions where the endpoint has it (auto), or one of the two."""


def split_credentials(url: str) -> tuple[str, str | None]:
    """`url` without any `user:password@` part, and the password (or user) it carried.

    >>> split_credentials("http://me:KEY@127.0.0.1:8000/v1")
    ('http://127.0.0.1:8000/v1', 'KEY')
    """
    parts = urllib.parse.urlsplit(url)
    if "@" not in parts.netloc:
        return url, None
    userinfo, _, host = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    secret = urllib.parse.unquote(password or user) or None
    return urllib.parse.urlunsplit(parts._replace(netloc=host)), secret


def redact_url(text: str) -> str:
    """`text` with the credentials of any URL in it replaced by `***`."""
    return re.sub(r"(?<=://)[^/@\s]+@", "***@", text)


def check_base_url(url: str) -> str:
    """`url` if it is an http(s) URL with a host; else `ValueError` saying what is wrong."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"base URL {redact_url(url)!r} is not an http(s) URL with a host, "
            "e.g. http://127.0.0.1:8000/v1"
        )
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError as error:
        raise ValueError(f"base URL {redact_url(url)!r}: {error}") from None
    return url


def retry_after_seconds(response: Any) -> float | None:
    """Seconds a 429/503 response asks to wait (`Retry-After`: seconds or an HTTP date; or
    `retry-after-ms`), or None when it does not say."""
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        return max(0.0, when.timestamp() - time.time())
