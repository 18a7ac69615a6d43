"""Issue 14: CSV/Excel export buttons on the lists and Compare link the metrics export with the
page's filters, and what they download is those samples' metrics (CSV with the BOM, for Excel)."""

from __future__ import annotations

import csv
import io
import re
from html import unescape

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _links(page: str) -> dict[str, str]:
    return {text: unescape(href) for href, text in re.findall(r'<a class="btn export-btn" href="([^"]+)"[^>]*>([^<]+)</a>', page)}


def _rows(client, href):
    response = client.get(href)
    assert response.status_code == 200, response.content[:500]
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert body.startswith(b"\xef\xbb\xbf")  # the buttons are for Excel
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


def test_compare_buttons_export_the_compared_samples(client_in, device, lineage, project, user):
    from samples.services import sample_create

    other = sample_create(kind="device", project=project, owner=user)
    from measurements.models import DerivedMetric

    DerivedMetric.objects.create(name="eqe_max", value=3.0, unit="%", scope="sample", sample=other, method="x", version="1")
    page = client_in.get(reverse("compare"), {"samples": [device.sample.label]}).content.decode()
    links = _links(page)
    assert set(links) == {"Metrics CSV", "Metrics Excel"}
    assert f"sample={device.sample.label}" in links["Metrics CSV"] and "bom=1" in links["Metrics CSV"]
    rows = _rows(client_in, links["Metrics CSV"])
    assert {r["sample"] for r in rows} == {device.sample.label}  # not the other device
    assert sorted(float(r["eqe_max [%]"]) for r in rows if r["scope"] == "pixel") == [9.1, 12.5, 17.9]
    xlsx = client_in.get(links["Metrics Excel"])
    assert xlsx.status_code == 200 and b"".join(xlsx.streaming_content)[:2] == b"PK"


def test_list_pages_have_buttons_carrying_their_filters(client_in, device, lineage):
    label = device.sample.label
    samples = _links(client_in.get(reverse("sample-list"), {"kind": "device"}).content.decode())
    assert f"sample={label}" in samples["Metrics CSV"].replace("%2C", ",")
    assert {r["sample"] for r in _rows(client_in, samples["Metrics CSV"])} == {label}
    devices = _links(client_in.get(reverse("device-list")).content.decode())
    assert {r["sample"] for r in _rows(client_in, devices["Metrics CSV"])} == {label}
    files = _links(client_in.get(reverse("measurement-list"), {"pixel": f"{label}-B"}).content.decode())
    rows = _rows(client_in, files["Metrics CSV"])
    assert [r["eqe_max [%]"] for r in rows] == ["17.9"]


def test_the_export_takes_several_sample_labels(client_in, device, lineage):
    response = client_in.get("/api/v1/metrics/export/", {"format": "csv", "sample": f"{device.sample.label},{lineage['qd'].label}"})
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert {r["sample"] for r in rows} == {device.sample.label}  # the QD batch has no metrics
