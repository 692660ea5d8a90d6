"""The launch helpers: a free port, and processes killed when they outlive their timeout."""
import socket

from launch import free_port, run_all


def test_free_port_is_free():
    port = free_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))  # would raise if someone listened there


def test_run_all_kills_on_timeout():
    (done,) = run_all([["sleep", "30"]], timeout=0.5)
    assert done.returncode is None  # killed, and run_all returned at once
