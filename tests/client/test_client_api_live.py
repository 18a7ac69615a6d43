"""The Python API and ``ledger push`` against a live server holding the demo data: the DataFrame
carries the reference answers (answers.json) and the lineage parameters of the export; push prints
the metrics and exits by outcome; the station rules come from the server."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from ledger_client import Client, Refused

from .live import ledger_cmd

DATA = Path(__file__).resolve().parents[1] / "data" / "public"
DRIP = "QD-in-matrix film (QD-ink drip) · 4.volume [µL]"
pytestmark = pytest.mark.live_server


@pytest.fixture
def server(shared_server):
    return shared_server


def distinct(name: str, tag: str) -> bytes:
    """A public file with one more trailing newline per tag letter: new bytes, the same data (the
    demo already holds the originals, and the same bytes on another sample are a 409)."""
    return (DATA / name).read_bytes() + b"\n" * (1 + "abcdefgh".index(tag))


def test_metrics_frame_has_the_reference_answers_and_the_lineage(server, answers):
    led = answers["led"]
    with Client(server.url, server.info["lead_token"]) as client:
        frame = client.metrics(project=server.info["project"], names=["eqe_max", "luminance_max", "el_peak_wavelength"])
        demo_device = server.info["devices"]["QD-in-matrix LED, stack A"]
        pixel = frame[frame["target"] == f"{demo_device}-A"]
        assert len(pixel) == 1, frame[["target", "scope"]]
        row = pixel.iloc[0]
        assert row["scope"] == "pixel" and row["device"] == demo_device
        assert row["eqe_max [%]"] == pytest.approx(led["eqe_max_percent"], rel=led["tolerance"]["eqe_rel"])
        assert row["luminance_max [cd/m²]"] == pytest.approx(led["luminance_max_cd_m2"], rel=led["tolerance"]["L_rel"])
        assert row["el_peak_wavelength [nm]"] == pytest.approx(led["el_peak_nm"], abs=led["tolerance"]["peak_nm"])
        assert row[DRIP] == 150  # the film run's logged drip volume, joined through the lineage
        # One row per target: the device roll-up is its own row (best of its pixels).
        assert frame["target"].is_unique
        assert frame.loc[frame["target"] == demo_device, "eqe_max (best) [%]"].iloc[0] == pytest.approx(row["eqe_max [%]"])
        # Only the asked-for metrics, and recipe= keeps one recipe's parameters.
        metric_cols = [c for c in frame.columns if "[" in c and " · " not in c]
        assert {c.split(" ")[0] for c in metric_cols} == {"eqe_max", "luminance_max", "el_peak_wavelength"}
        film = client.metrics(project=server.info["project"], names=["eqe_max"], recipe="QD-in-matrix film (QD-ink drip)")
        assert all(c.startswith("QD-in-matrix film (QD-ink drip) · ") for c in film.columns if " · " in c)
        assert DRIP in film.columns and len(film) >= 1
        # The same table the server exports (one request, no name filter) has the same values.
        whole = client.metrics(project=server.info["project"])
        same = whole[whole["target"] == f"{demo_device}-A"].iloc[0]
        assert same["eqe_max [%]"] == row["eqe_max [%]"] and same[DRIP] == 150


def test_samples_lineage_and_paging(server):
    with Client(server.url, server.info["lead_token"]) as client:
        samples = client.samples(project=server.info["project"])
        labels = {s["label"] for s in samples}
        assert set(server.info["devices"].values()) <= labels
        # Paging: a page size of 2 walks every sample, each once.
        paged = list(client.pages("samples/", {"project": server.info["project"], "limit": 2}))
        assert sorted(s["label"] for s in paged) == sorted(labels)
        devices = client.samples(project=server.info["project"], kind="device")
        device_labels = {s["label"] for s in devices}
        # The three reference devices of PROCESS.md and the 30 of the demo campaign, nothing else.
        assert set(server.info["devices"].values()) <= device_labels and len(device_labels) == 33
        assert device_labels == {s["label"] for s in samples if s["kind"] == "device"}
        films = client.samples(recipe="QD-in-matrix film (QD-ink drip)")
        assert films and all(s["kind"] == "film" for s in films)
        lineage = client.lineage(server.info["devices"]["QD-in-matrix LED, stack A"])
        kinds = {a["kind"] for a in lineage["ancestors"]}
        assert {"qd_batch", "qd_ink", "precursor_solution", "film", "substrate"} <= kinds
        assert lineage["descendants"] == []


def test_upload_and_wait_give_the_metrics(server, answers):
    pixel = f"{server.info['devices']['QD-in-matrix LED, stack B']}-A"
    with Client(server.url, server.info["station_token"]) as client:
        jlv = client.upload(DATA / "jlv_sweep.csv", pixel, kind="jlv", params={"pixel_area_cm2": 0.09},
                            idempotency_key="t-jlv", content=distinct("jlv_sweep.csv", "a"))
        el = client.upload(DATA / "el_spectrum.txt", pixel, kind="el", idempotency_key="t-el",
                           content=distinct("el_spectrum.txt", "a"))
        again = client.upload(DATA / "el_spectrum.txt", pixel, kind="el", idempotency_key="t-el",
                              content=distinct("el_spectrum.txt", "a"))
        assert again["id"] == el["id"]
        record = client.wait(el["id"], timeout=120)
        assert record["status"] == "done"
        eqe = [m["value"] for m in client.wait(jlv["id"])["metrics"] if m["name"] == "eqe_max" and not m["superseded"]]
        assert eqe and eqe[0] == pytest.approx(answers["led"]["eqe_max_percent"], rel=answers["led"]["tolerance"]["eqe_rel"])
        with pytest.raises(Refused) as refused:
            client.upload(DATA / "el_spectrum.txt", "DEV-9999-A", kind="el", content=distinct("el_spectrum.txt", "b"))
        assert refused.value.status == 400 and "DEV-9999" in refused.value.message


def _push(server, tmp_path, *args: str, url: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(ledger_cmd("push", *args, "--url", url or server.url, "--token", server.info["station_token"],
                                     "--journal", str(tmp_path / "journal.sqlite3"), "--retry-for", "2"),
                          capture_output=True, text=True, timeout=180)


def test_push_prints_metrics_and_exits_by_outcome(server, tmp_path, answers):
    pixel = f"{server.info['devices']['QD-in-matrix LED, stack B']}-B"
    el = tmp_path / "el_spectrum.txt"
    el.write_bytes(distinct("el_spectrum.txt", "c"))
    ok = _push(server, tmp_path, str(el), "--target", pixel, "--kind", "el")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "done" in ok.stdout and "el_peak_wavelength" in ok.stdout and "647.8" in ok.stdout
    assert "[1/1] el_spectrum.txt" in ok.stderr

    # Content no parser recognises: 415 from the server → parked with the reason, exit 2.
    junk = tmp_path / "notes.txt"
    junk.write_bytes(b"\x00\x01 this is not a measurement \xff" * 40)
    refused = _push(server, tmp_path, str(junk), "--target", pixel)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "refused (415)" in refused.stdout
    # A file the analysis rejects (a J-V without light as an EL spectrum … here: a J-L-V as XRD): exit 1.
    jlv = tmp_path / "jlv_sweep.csv"
    jlv.write_bytes(distinct("jlv_sweep.csv", "c"))
    failed = _push(server, tmp_path, str(jlv), "--target", pixel, "--kind", "xrd")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "failed — " in failed.stdout
    status = subprocess.run(ledger_cmd("status", "--journal", str(tmp_path / "journal.sqlite3"), "--json"),
                            capture_output=True, text=True)
    assert json.loads(status.stdout)["counts"] == {"done": 1, "parked": 1, "failed": 1}
    assert status.returncode == 1
    # Nobody listening (a port of the range with no server): exit 3, the file stays pending.
    from .live import free_port

    down = _push(server, tmp_path, str(DATA / "pl_spectrum.txt"), "--target", pixel, url=f"http://127.0.0.1:{free_port()}")
    assert down.returncode == 3 and "not sent" in down.stdout, down.stdout + down.stderr
    assert json.loads(subprocess.run(ledger_cmd("status", "--journal", str(tmp_path / "journal.sqlite3"), "--json"),
                                     capture_output=True, text=True).stdout)["counts"]["pending"] == 1


def test_station_rules_come_from_the_server(server):
    rules_toml = '[[rule]]\nname = "EL"\npattern = "{sample}_{pixel}_el_*.txt"\nkind = "el"\n'
    setup = subprocess.run(
        [str(Path(ledger_cmd()[0]).parent / "python"), "manage.py", "shell", "-c",
         "from django.contrib.auth.models import User; from stations.services import station_rules_set; "
         f"station_rules_set(account=User.objects.get(username='station'), rules_toml={rules_toml!r})"],
        cwd=Path(__file__).resolve().parents[2], env=server.env, capture_output=True, text=True)
    assert setup.returncode == 0, setup.stderr
    with Client(server.url, server.info["station_token"]) as client:
        assert client.station_rules() == rules_toml
    with Client(server.url, server.info["lead_token"]) as client:
        assert client.station_rules() is None  # a person's account has none: 404 → None
