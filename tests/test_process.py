"""Process-level tuning of the Streamlit server (dashboard/process.py)."""

import socket

from dashboard.process import send_without_delay


def nodelay(sock: socket.socket) -> int:
    return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)


def test_the_servers_connections_send_without_delay():
    """A listening socket bound as Streamlit binds its own (`socket.socket(family)`: protocol 0,
    which asyncio leaves with Nagle's algorithm on) and a connection it accepted: both get
    TCP_NODELAY, and so does a connection accepted afterwards (inherited from the listener)."""
    listener = socket.socket(socket.AF_INET)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    clients, accepted = [], []
    try:
        clients.append(socket.create_connection(listener.getsockname()))
        accepted.append(listener.accept()[0])
        assert nodelay(listener) == 0 and nodelay(accepted[0]) == 0  # as Streamlit's are
        send_without_delay.clear()  # once per process: this test's sockets are new
        send_without_delay()
        assert nodelay(listener) == 1 and nodelay(accepted[0]) == 1
        clients.append(socket.create_connection(listener.getsockname()))
        accepted.append(listener.accept()[0])
        assert nodelay(accepted[1]) == 1
    finally:
        for sock in [listener, *clients, *accepted]:
            sock.close()
