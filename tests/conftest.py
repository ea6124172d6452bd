"""Helpers shared by the tests that start real processes."""
import socket


def free_port() -> int:
    """A localhost TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
