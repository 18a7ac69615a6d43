"""Rebuild the foreign .eln test archives from the metadata the ELN Consortium publishes.

The example archives of github.com/TheELNConsortium/TheELNFileFormat (examples/, MIT) are binary
and could not be fetched here; their ro-crate-metadata.json is published verbatim in each
vendor's examples/<vendor>/README.md, copied unchanged into src/. Each archive below holds that
metadata in one root folder and none of the payload files (their bytes are not published as
text), so an import must bring in the metadata and report every listed file as missing.

    python tests/data/eln/build.py      # deterministic: same bytes every time
"""

import zipfile
from pathlib import Path

HERE = Path(__file__).parent
ARCHIVES = {"elabftw-single-experiment": "elabftw-single-experiment.json",
            "kadi4mat-collections-example": "kadi4mat-collections-example.json"}

for name, source in ARCHIVES.items():
    with zipfile.ZipFile(HERE / f"{name}.eln", "w", compression=zipfile.ZIP_DEFLATED) as zf:
        info = zipfile.ZipInfo(f"{name}/ro-crate-metadata.json", date_time=(2024, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        zf.writestr(info, (HERE / "src" / source).read_bytes())
