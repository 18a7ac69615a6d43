"""Raw TCP printing (port 9100, 'JetDirect'): connect, send everything, close. Both Brother QL
network models and Zebras take jobs this way. brother_ql's own network backend connects without
a timeout, which could hold a Celery worker for minutes on a printer that is off; this does not."""

from __future__ import annotations

import socket


class PrinterUnreachable(OSError):
    pass


def send_tcp(host: str, port: int, payload: bytes, *, timeout_s: float = 10.0) -> int:
    """Send ``payload``; returns the bytes sent. Raises PrinterUnreachable with a reason for people."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as sock:
            sock.sendall(payload)
            sock.shutdown(socket.SHUT_WR)
    except TimeoutError:
        raise PrinterUnreachable(f"no answer from {host}:{port} within {timeout_s:g} s (is the printer on and on the network?)") from None
    except ConnectionRefusedError:
        raise PrinterUnreachable(f"{host}:{port} refused the connection (wrong port, or raw printing is disabled)") from None
    except socket.gaierror as exc:
        raise PrinterUnreachable(f"cannot resolve the printer's address {host!r} ({exc.strerror})") from None
    except OSError as exc:
        raise PrinterUnreachable(f"sending to {host}:{port} failed: {exc.strerror or exc}") from None
    return len(payload)
