"""The Python API: ``Client(url, token)`` over LEDger's REST API (``/api/v1/``).

Lists are paged by the client itself (``limit``/``offset`` links), errors are one of three kinds
(``Unavailable``: try again later; ``Refused``: the server said no and will say no again;
``AuthError``: the token), and metrics come as a ``pandas.DataFrame`` built from the server's own
export, so the columns are the ones the web export has (``eqe_max [%]``, ``<recipe> · 4.volume [µL]``).
"""

from __future__ import annotations

import io
import json
import mimetypes
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from . import __version__

# Answers worth retrying: the server (or a proxy in front of it) is busy, restarting or down.
TRANSIENT_STATUS = {408, 425, 429, 500, 502, 503, 504}
TERMINAL_FILE_STATUS = {"done", "failed", "stored"}
ID_COLUMNS = ["target", "scope", "sample", "device", "pixel", "project", "sample_name"]
PAGE_LIMIT = 500  # the server's max_limit


class LedgerError(Exception):
    def __init__(self, message: str, *, status: int | None = None, code: str = "", fields: dict | None = None):
        super().__init__(message)
        self.message, self.status, self.code, self.fields = message, status, code, fields or {}


class Unavailable(LedgerError):
    """Network down, server stopped, 5xx or 429: the same request may work later."""

    def __init__(self, message: str, *, status: int | None = None, retry_after_s: float | None = None, **kw: Any):
        super().__init__(message, status=status, **kw)
        self.retry_after_s = retry_after_s


class Refused(LedgerError):
    """The server refused the request (400, 403, 404, 409, 413, 415 …): the same request will be refused again."""


class AuthError(LedgerError):
    """401: the token is missing, wrong or revoked."""


def _error_message(response: httpx.Response) -> tuple[str, str, dict]:
    try:
        body = response.json()
        err = body.get("error", {}) if isinstance(body, dict) else {}
        return err.get("message") or response.reason_phrase, err.get("code", ""), err.get("fields") or {}
    except ValueError:
        return f"HTTP {response.status_code} {response.reason_phrase}", "", {}


class Client:
    """``Client("http://ledger.lab:8000", token)``; use as a context manager or call ``close()``."""

    def __init__(self, url: str, token: str, *, timeout: float = 60.0, transport: httpx.BaseTransport | None = None):
        if not url:
            raise ValueError("give the LEDger URL, e.g. http://ledger.lab:8000 (or set LEDGER_URL)")
        if not token:
            raise ValueError("give an API token (manage.py issue_token NAME), or set LEDGER_TOKEN")
        self.url = url.rstrip("/")
        self._http = httpx.Client(
            base_url=f"{self.url}/api/v1/", timeout=timeout, transport=transport,
            headers={"Authorization": f"Token {token}", "Accept": "application/json",
                     "User-Agent": f"ledger-client/{__version__}"})

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- plumbing ------------------------------------------------------------------------------

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:  # refused, reset, timeout, DNS …
            raise Unavailable(f"cannot reach {self.url}: {type(exc).__name__}: {exc}") from exc
        if response.status_code < 400:
            return response
        message, code, fields = _error_message(response)
        if response.status_code == 401:
            raise AuthError(f"{self.url} refused the token: {message}", status=401, code=code)
        if response.status_code in TRANSIENT_STATUS:
            retry_after = response.headers.get("Retry-After")
            raise Unavailable(f"{self.url} answered {response.status_code}: {message}", status=response.status_code,
                              code=code, retry_after_s=float(retry_after) if retry_after and retry_after.isdigit() else None)
        raise Refused(message, status=response.status_code, code=code, fields=fields)

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self.request("GET", path, params=_clean(params)).json()

    def pages(self, path: str, params: dict[str, Any] | None = None) -> Iterator[dict]:
        """Every item of a paged list, following the server's ``next`` links."""
        query = {"limit": PAGE_LIMIT, **_clean(params)}
        body = self.get(path, query)
        while True:
            if isinstance(body, list):  # an unpaged list
                yield from body
                return
            yield from body.get("results", [])
            next_url = body.get("next")
            if not next_url:
                return
            body = self.request("GET", next_url).json()

    # --- reads ---------------------------------------------------------------------------------

    def samples(self, *, project: str | None = None, kind: str | None = None, recipe: str | int | None = None,
                q: str | None = None, **filters: Any) -> list[dict]:
        """Samples you can see, e.g. ``samples(project="qd-in-matrix", kind="device")``. ``recipe``
        is a recipe's name or id (the samples it made); other filters as in the API."""
        if recipe is not None and not str(recipe).isdigit():
            recipe = self._recipe_id(str(recipe))
        return list(self.pages("samples/", {"project": project, "kind": kind, "recipe": recipe, "q": q, **filters}))

    def _recipe_id(self, name: str) -> int:
        for item in self.pages("recipes/", {"q": name}):
            if item.get("name") == name:
                return item["id"]
        raise Refused(f"no recipe named {name!r}", status=404)

    def sample(self, label: str) -> dict:
        return self.get(f"samples/{label}/")

    def lineage(self, label: str) -> dict:
        """``{"sample": …, "ancestors": […], "descendants": […]}`` (ancestors oldest first)."""
        return {"sample": self.sample(label), "ancestors": self.get(f"samples/{label}/ancestors/"),
                "descendants": self.get(f"samples/{label}/descendants/")}

    def files(self, **filters: Any) -> list[dict]:
        return list(self.pages("measurements/", filters))

    def file(self, file_id: int) -> dict:
        return self.get(f"measurements/{file_id}/")

    def metrics(self, *, project: str | None = None, names: list[str] | None = None, recipe: str | None = None,
                **filters: Any):
        """Current metrics as a DataFrame: one row per pixel, device or sample (``scope``), one column
        per metric with its unit, and one per recipe parameter of the sample's lineage, as the
        server's export (``/api/v1/metrics/export``). ``names`` keeps those metrics only; ``recipe``
        keeps the parameter columns of that recipe only, and the rows that have them."""
        try:
            import pandas as pd
        except ImportError:  # pragma: no cover - depends on the install
            raise ImportError("metrics() needs pandas: pip install 'ledger-client[pandas]'") from None
        base = {"format": "csv", "project": project, **filters}
        frames = [self._export(pd, {**base, "name": name}) for name in (names or [None])]
        frame = frames[0] if len(frames) == 1 else _combine(pd, frames)
        if recipe:
            prefix = f"{recipe} · "
            params = [c for c in frame.columns if " · " in c]
            keep = [c for c in params if c.startswith(prefix)]
            frame = frame.drop(columns=[c for c in params if c not in keep])
            if keep:
                frame = frame.dropna(subset=keep, how="all")
            else:
                frame = frame.iloc[0:0]
        return frame.reset_index(drop=True)

    def _export(self, pd: Any, params: dict[str, Any]):
        response = self.request("GET", "metrics/export/", params=_clean(params), headers={"Accept": "text/csv"})
        if not response.content.strip():
            return pd.DataFrame(columns=ID_COLUMNS)
        return pd.read_csv(io.BytesIO(response.content), encoding="utf-8-sig")  # with or without a BOM (?bom=1)

    def station_rules(self) -> str | None:
        """The RULES.toml the lab manager stored on the server for this token's account, if any."""
        try:
            return self.get("instruments/me/rules/")["rules_toml"]
        except Refused as exc:
            if exc.status == 404:
                return None
            raise

    # --- upload --------------------------------------------------------------------------------

    def upload(self, path: str | Path, target: str, *, kind: str | None = None, params: dict | None = None,
               metadata: dict | None = None, instrument: str | None = None, measured_at: str | None = None,
               idempotency_key: str | None = None, content: bytes | None = None, filename: str | None = None) -> dict:
        """Upload one file to a sample or pixel (``DEV-0001-A``). Returns the server's record
        (``id``, ``status``, ``url`` …). Safe to repeat: give the same ``idempotency_key`` and a
        retry returns the first answer; the same bytes on the same target are never stored twice."""
        path = Path(path)
        data = content if content is not None else path.read_bytes()
        name = filename or path.name
        fields = {"sample": target, "kind": kind or "", "instrument": instrument or "",
                  "metadata": json.dumps(metadata or {}), "parameters": json.dumps(params or {})}
        if measured_at:
            fields["measured_at"] = measured_at
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        ctype = mimetypes.guess_type(name)[0] or "application/octet-stream"
        response = self.request("POST", "measurements/", data=fields, files={"file": (name, data, ctype)},
                                headers=headers)
        return response.json()

    def wait(self, file_id: int, *, timeout: float = 600.0, poll_s: float = 0.5) -> dict:
        """Poll a file until its analysis is done or failed; returns the record (with ``metrics``,
        or ``failure_reason``). Raises TimeoutError after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        delay = poll_s
        while True:
            record = self.file(file_id)
            if record.get("status") in TERMINAL_FILE_STATUS:
                return record
            if time.monotonic() + delay > deadline:
                raise TimeoutError(f"file {file_id} still {record.get('status')} after {timeout:.0f} s")
            time.sleep(delay)
            delay = min(delay * 1.5, 5.0)


def _clean(params: dict[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (params or {}).items() if v is not None and v != ""}


def _combine(pd: Any, frames: list):
    """One export per metric name → one frame: rows of the same target merge (each column takes its
    non-empty value); identity columns first, metrics sorted, then the lineage parameters."""
    frame = pd.concat(frames, ignore_index=True, sort=False)
    ids = [c for c in ID_COLUMNS if c in frame.columns]
    merged = frame.groupby(ids, dropna=False, sort=False, as_index=False).first()
    metric_cols = sorted(c for c in merged.columns if c not in ids and " · " not in c)
    param_cols = [c for c in frame.columns if " · " in c]
    return merged[ids + metric_cols + param_cols]
