"""Keep the test session off the network: Hugging Face offline, and only loopback sockets.

`install()` patches `socket.socket.connect`/`connect_ex` and `socket.getaddrinfo` so that
a connection or a name lookup for anything but 127.0.0.0/8, ::1, `localhost`, this machine's
own name or a Unix socket raises `NonLoopbackNetwork`. Tests start their servers (scripted LLMs,
the Prefect test server, a Hub stand-in) on 127.0.0.1, so they are unaffected; a test that
reaches for the internet fails at once with a message naming the host.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import socket
from typing import Any

OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


class NonLoopbackNetwork(RuntimeError):
    """A test tried to reach a host other than this machine."""


def _local_names() -> set[str]:
    names = {"localhost", "localhost.localdomain", "ip6-localhost"}
    with contextlib.suppress(OSError):
        names.add(socket.gethostname().lower())
    return names


def is_loopback(host: Any) -> bool:
    """True for None, loopback addresses, `localhost` and this machine's own name.

    >>> is_loopback("127.0.0.1"), is_loopback("::1"), is_loopback("example.org")
    (True, True, False)
    """
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    host = str(host).strip("[]").split("%")[0].lower()
    if host in _local_names():
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check(address: Any) -> None:
    if isinstance(address, str | bytes):  # AF_UNIX: a path
        return
    host = address[0] if isinstance(address, tuple) and address else address
    if not is_loopback(host):
        raise NonLoopbackNetwork(f"tests may only use loopback sockets; tried to reach {host!r}")


def install() -> None:
    """Set the offline variables and refuse non-loopback connections for this process."""
    os.environ.update(OFFLINE_ENV)
    if getattr(socket.socket.connect, "_loopback_only", False):
        return
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def connect(self: socket.socket, address: Any) -> None:
        if self.family != getattr(socket, "AF_UNIX", None):
            _check(address)
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        if self.family != getattr(socket, "AF_UNIX", None):
            _check(address)
        return real_connect_ex(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> list:
        _check((host,))
        return real_getaddrinfo(host, *args, **kwargs)

    connect._loopback_only = True  # type: ignore[attr-defined]
    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = getaddrinfo
