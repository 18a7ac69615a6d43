"""GIWAXS frames and other images are stored as they are and shown as images."""

import io

import numpy as np
import pytest
from PIL import Image

from measurements.models import FileStatus
from measurements.services import measurement_file_ingest

pytestmark = pytest.mark.django_db(transaction=True)


def _tiff_16bit() -> bytes:
    # A fake detector frame: a ring on a weak background, 16-bit like a Pilatus export.
    y, x = np.mgrid[0:200, 0:200]
    r = np.hypot(x - 100, y - 100)
    frame = (20 + 30000 * np.exp(-((r - 60) ** 2) / 20)).astype(np.uint16)
    out = io.BytesIO()
    Image.fromarray(frame).save(out, format="TIFF")
    return out.getvalue()


def test_a_giwaxs_tiff_is_stored_and_previewed_as_png(demo, client):
    content = _tiff_16bit()
    mf = measurement_file_ingest(content=content, filename="giwaxs_frame.tif", sample=demo["film"]).file
    assert mf.kind == "image"  # recognised from its magic bytes, not refused as binary junk
    assert mf.status == FileStatus.STORED and mf.size_bytes == len(content)
    client.force_login(demo["user"])
    page = client.get(mf.get_absolute_url())
    assert page.status_code == 200 and f"/measurements/{mf.pk}/image.png" in page.content.decode()
    png = client.get(f"/measurements/{mf.pk}/image.png")
    assert png.status_code == 200 and png["Content-Type"] == "image/png"
    preview = np.asarray(Image.open(io.BytesIO(png.content)))
    assert preview.shape == (200, 200) and preview[100, 160] > 200 > 60 > preview[100, 100]  # ring bright, centre dark
    with mf.file.open("rb") as fh:
        assert fh.read() == content  # the stored bytes are untouched
