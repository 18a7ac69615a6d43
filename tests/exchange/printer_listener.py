"""A real TCP listener standing in for a label printer's raw port (9100 on the printer; here the
first free port in 9600–9699 on 127.0.0.1, the range this suite's printer tests use)."""

from __future__ import annotations

import socket
import threading


class PrinterListener:
    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        for port in range(9600, 9700):
            try:
                self.sock.bind(("127.0.0.1", port))
                break
            except OSError:
                continue
        else:
            raise RuntimeError("no free port in 9600-9699 for the printer listener")
        self.port = port
        self.sock.listen(4)
        self.sock.settimeout(0.2)
        self.jobs: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                chunks = []
                while True:
                    try:
                        chunk = conn.recv(65536)
                    except TimeoutError:
                        break
                    if not chunk:
                        break
                    chunks.append(chunk)
                self.jobs.append(b"".join(chunks))

    def wait_for(self, count: int, timeout_s: float = 5.0) -> list[bytes]:
        import time

        deadline = time.monotonic() + timeout_s
        while len(self.jobs) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.jobs

    def close(self):
        self._stop.set()
        self.sock.close()
        self._thread.join(timeout=2)
