"""Instrument upload → analysis (in-process) → metrics on the file, the sample and the export."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.conftest import DATA_DIR


def upload(client, name: str, target: str, capture, **fields):
    content = (DATA_DIR / "public" / name).read_bytes()
    with capture(execute=True):  # run the queued analysis as the commit would
        return client.post("/api/v1/measurements/", {"file": SimpleUploadedFile(name, content), "sample": target, **fields},
                           format="multipart")


@pytest.mark.django_db
def test_jlv_and_el_to_a_pixel_give_eqe_max(world, client_for, answers, django_capture_on_commit_callbacks):
    client = client_for(world.station)
    pixel = world.dev_a.pixels.get(name="A")
    first = upload(client, "jlv_sweep.csv", pixel.label, django_capture_on_commit_callbacks,
                   instrument=world.instrument.name, metadata='{"operator": "ab"}', measured_at="2021-03-05T10:00:00Z")
    assert first.status_code == 201, first.content
    body = first.json()
    assert set(body) >= {"id", "sha256", "status", "url"}
    assert body["url"].endswith(f"/api/v1/measurements/{body['id']}/")
    assert body["kind"] == "jlv" and body["pixel"] == pixel.label  # kind sniffed from the content

    second = upload(client, "el_spectrum.txt", pixel.label, django_capture_on_commit_callbacks)
    assert second.status_code == 201, second.content
    assert second.json()["kind"] == "el"

    polled = client.get(body["url"]).json()
    assert polled["status"] == "done", polled["failure_reason"]
    assert polled["metadata"]["operator"] == "ab"
    expected = answers["led"]["eqe_max_percent"]
    current = {m["name"]: m for m in polled["metrics"] if not m["superseded"]}
    assert current["eqe_max"]["value"] == pytest.approx(expected, rel=answers["led"]["tolerance"]["eqe_rel"])
    assert current["eqe_max"]["unit"] == "%"

    sample_metrics = client.get(f"/api/v1/samples/{world.dev_a.sample.label}/metrics/").json()
    eqe = [m for m in sample_metrics if m["name"] == "eqe_max"]
    assert {(m["scope"], m["aggregate"]) for m in eqe} >= {("pixel", "value"), ("device", "best"), ("device", "median")}
    assert all(not m["superseded"] for m in sample_metrics)

    response = client.get(f"/api/v1/metrics/export?format=csv&sample={world.dev_a.sample.label}&name=eqe_max")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    header = list(rows[0])
    assert header[:7] == ["target", "scope", "sample", "device", "pixel", "project", "sample_name"]
    assert {"eqe_max [%]", "eqe_max (best) [%]", "eqe_max (median) [%]"} <= set(header)
    recipe = world.dev_a.sample.produced_by.recipe_version.recipe.name
    assert f"{recipe} · 1.speed [rpm]" in header and f"{recipe} · 1.solvent" in header
    by_target = {r["target"]: r for r in rows}
    assert float(by_target[pixel.label]["eqe_max [%]"]) == pytest.approx(expected, rel=0.02)
    assert float(by_target[pixel.label][f"{recipe} · 1.speed [rpm]"]) == 3050  # the actual value, not the plan
    assert by_target[world.dev_a.sample.label]["scope"] == "device"


@pytest.mark.django_db
def test_export_walks_the_lineage_and_makes_xlsx(world, client_for):
    import pandas as pd

    from . import factories as f

    qd, dev = f.lineage(world.alpha, world.alice)
    f.metric(dev, "eqe_max", 12.5, pixel=dev.pixels.get(name="B"))
    client = client_for(world.alice)
    response = client.get(f"/api/v1/metrics/export?format=xlsx&device={dev.sample.label}")
    assert response.status_code == 200
    frame = pd.read_excel(io.BytesIO(b"".join(response.streaming_content)))
    assert list(frame["target"]) == [f"{dev.sample.label}-B"]
    qd_recipe = qd.produced_by.recipe_version.recipe.name
    assert frame.loc[0, f"{qd_recipe} · 1.speed [rpm]"] == 3000  # ancestor's planned value
    assert frame.loc[0, "eqe_max [%]"] == 12.5
    # bob cannot export alpha's numbers
    denied = client_for(world.bob).get(f"/api/v1/metrics/export?device={dev.sample.label}")
    assert "DEV" not in b"".join(denied.streaming_content).decode()
