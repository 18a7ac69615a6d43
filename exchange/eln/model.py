"""Plain data for an .eln archive (the ELN Consortium's format: an RO-Crate 1.1 in a ZIP with one
root folder). No Django: the selectors fill these from the database, the writer turns them into
bytes, and the reader gives them back from any archive, LEDger's or another ELN's."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MEDIA_TYPE = "application/vnd.eln+zip"
RO_CRATE_VERSION = "1.1"
METADATA_NAME = "ro-crate-metadata.json"
# LEDger's own, machine-readable record of a sample, next to its files in the sample's folder.
LEDGER_RECORD = "ledger-sample.json"
LEDGER_PUBLISHER = "LEDger"


@dataclass
class Person:
    id: str  # "#person-alice"
    name: str
    given_name: str = ""
    family_name: str = ""
    email: str = ""


@dataclass
class Property:
    """A schema.org PropertyValue: a recipe parameter, a metric, a sample attribute."""

    property_id: str  # "eqe_max", "4.volume", "ledger:kind"
    name: str
    value: Any
    unit_text: str = ""
    min_value: float | None = None
    max_value: float | None = None
    description: str = ""
    measurement_technique: str = ""  # "led.jlv_el 1.0" for a metric


@dataclass
class ElnFile:
    path: str  # inside the root folder: "DEV-0001/jlv_sweep.csv"
    content: bytes
    name: str  # the original file name
    encoding_format: str = "application/octet-stream"
    description: str = ""
    date_created: str = ""
    sha256: str = ""  # filled by the writer (and checked by the reader)

    @property
    def size(self) -> int:
        return len(self.content)


@dataclass
class ElnDataset:
    path: str  # "DEV-0001/" (a folder of the archive)
    name: str
    identifier: str = ""
    additional_type: str = ""  # "Sample" / "ProcessRun" for LEDger, whatever the other ELN says
    description: str = ""
    text: str = ""
    date_created: str = ""
    date_modified: str = ""
    author_ids: list[str] = field(default_factory=list)
    based_on: list[str] = field(default_factory=list)  # paths of the datasets it was made from
    keywords: list[str] = field(default_factory=list)
    url: str = ""
    properties: list[Property] = field(default_factory=list)
    files: list[ElnFile] = field(default_factory=list)
    node: dict[str, Any] = field(default_factory=dict)  # the JSON-LD node as read (import only)


@dataclass
class ElnArchive:
    root: str  # the single root folder, e.g. "ledger-qd-in-matrix-2026-12-01"
    name: str
    description: str = ""
    date_created: str = ""
    publisher: str = LEDGER_PUBLISHER
    publisher_url: str = ""
    license: str = ""
    people: list[Person] = field(default_factory=list)
    datasets: list[ElnDataset] = field(default_factory=list)
    loose_files: list[ElnFile] = field(default_factory=list)  # files directly under the root dataset
    warnings: list[str] = field(default_factory=list)  # what the reader skipped, and why

    @property
    def is_ledger(self) -> bool:
        return self.publisher == LEDGER_PUBLISHER and any(
            f.name == LEDGER_RECORD for d in self.datasets for f in d.files)
