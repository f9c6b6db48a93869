"""Whether the hub (or a Ray head) answers: one TCP probe, asked on this machine only."""

from __future__ import annotations

import socket

import pytest

from ccgen import hub


@pytest.fixture
def ports():
    """(a port something listens on, a port nothing listens on), both on 127.0.0.1."""
    with socket.socket() as listening, socket.socket() as closed:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        closed.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        yield listening.getsockname()[1], closed.getsockname()[1]


def test_a_listening_port_answers_and_a_closed_one_says_why(ports) -> None:
    up, down = ports
    assert hub.connect_error("127.0.0.1", up, 2.0) is None
    reason = hub.connect_error("127.0.0.1", down, 2.0)
    assert reason and "\n" not in reason  # the system's one line, e.g. Connection refused
    assert hub.reachable(f"http://127.0.0.1:{up}") and not hub.reachable(
        f"http://127.0.0.1:{down}")


def test_the_hub_answers_only_where_it_is_on_and_reachable(ports, monkeypatch) -> None:
    up, down = ports
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{up}")
    assert hub.answers(timeout=2.0)
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{down}")
    assert not hub.answers(timeout=2.0)
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{up}")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")

    def no_network(*_: object, **__: object) -> None:
        raise AssertionError("an offline hub was probed")

    monkeypatch.setattr(socket, "create_connection", no_network)
    assert not hub.answers(timeout=2.0)  # switched off: not even tried
