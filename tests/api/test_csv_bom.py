"""Issue 14: every CSV a person downloads from a page starts with the UTF-8 BOM (Excel reads it
as UTF-8, not the local code page); the API's ?format=csv is for programs and has none unless
asked (&bom=1). pandas' encoding="utf-8-sig" reads both to the same frame. One helper writes
them all (core.downloads.csv_response)."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from django.test import Client

from core.downloads import UTF8_BOM

pytestmark = pytest.mark.django_db
BOM = UTF8_BOM.encode()


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_web_downloads_start_with_the_bom(world):
    web = Client()
    web.force_login(world.alice)
    for url in ("/samples/?format=csv", "/exchange/peled.csv"):
        response = web.get(url)
        assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8", url
        body = _body(response)
        assert body.startswith(BOM) and not body[3:].startswith(BOM), url


@pytest.mark.parametrize("url", ["/api/v1/metrics/export/?format=csv", "/api/v1/exchange/peled/?format=csv"])
def test_api_csv_has_a_bom_only_when_asked_and_pandas_reads_both(world, client_for, url):
    client = client_for(world.alice)
    plain, marked = _body(client.get(url)), _body(client.get(url + "&bom=1"))
    assert not plain.startswith(BOM) and marked == BOM + plain
    a = pd.read_csv(io.BytesIO(plain), encoding="utf-8-sig", dtype=str, keep_default_na=False)
    b = pd.read_csv(io.BytesIO(marked), encoding="utf-8-sig", dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(a, b)
    assert not a.columns[0].startswith(UTF8_BOM) and len(a) >= 1


def test_every_text_csv_response_goes_through_the_one_helper():
    """A new CSV view that builds its own response would skip the BOM rule: only core.downloads
    names the CSV content type."""
    found = subprocess.run(["git", "-C", str(Path(__file__).resolve().parents[2]), "grep", "-n", "text/csv; charset", "--", "*.py", ":!tests/", ":!clients/"],
                           capture_output=True, text=True).stdout.splitlines()
    assert [line for line in found if not line.startswith("core/downloads.py")] == []
