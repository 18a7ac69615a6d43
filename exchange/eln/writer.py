"""Write an ``ElnArchive`` as .eln bytes: the RO-Crate metadata built with the ``rocrate`` library
(flattened JSON-LD, RO-Crate 1.1 as the ELN spec asks), streamed into a ZIP under one root folder.

rocrate's own ``write_zip`` puts the crate at the top of the ZIP; the ELN spec wants exactly one
folder there (so unzipping never spills into the current directory), hence the small loop below.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from urllib.parse import unquote

from rocrate.model import ContextEntity, Person
from rocrate.rocrate import ROCrate

from .model import METADATA_NAME, RO_CRATE_VERSION, ElnArchive, ElnDataset, ElnFile, Property

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(name: str, fallback: str = "file") -> str:
    """A file or folder name that needs no percent-encoding in an @id: 'EL spectrum (A).txt' → 'EL_spectrum_A_.txt'."""
    cleaned = _UNSAFE.sub("_", name.replace("\\", "/").rsplit("/", 1)[-1]).strip("._") or fallback
    return cleaned[:120]


def _property_entity(crate: ROCrate, owner: str, index: int, prop: Property) -> ContextEntity:
    body = {"@type": "PropertyValue", "propertyID": prop.property_id, "name": prop.name, "value": prop.value}
    if prop.unit_text:
        body["unitText"] = prop.unit_text
    if prop.min_value is not None:
        body["minValue"] = prop.min_value
    if prop.max_value is not None:
        body["maxValue"] = prop.max_value
    if prop.description:
        body["description"] = prop.description
    if prop.measurement_technique:
        body["measurementTechnique"] = prop.measurement_technique
    return crate.add(ContextEntity(crate, f"#{owner.rstrip('/')}/pv-{index}", properties=body))


def _file_entity(crate: ROCrate, f: ElnFile):
    f.sha256 = hashlib.sha256(f.content).hexdigest()
    props = {"name": f.name, "encodingFormat": f.encoding_format, "contentSize": str(f.size), "sha256": f.sha256}
    if f.description:
        props["description"] = f.description
    if f.date_created:
        props["dateCreated"] = f.date_created
    return crate.add_file(source=io.BytesIO(f.content), dest_path=f.path, properties=props)


def _dataset_entity(crate: ROCrate, d: ElnDataset, people: dict):
    props = {"name": d.name}
    for key, value in (("identifier", d.identifier), ("additionalType", d.additional_type), ("description", d.description),
                       ("text", d.text), ("dateCreated", d.date_created), ("dateModified", d.date_modified), ("url", d.url)):
        if value:
            props[key] = value
    if d.keywords:
        props["keywords"] = ", ".join(d.keywords)
    entity = crate.add_dataset(dest_path=d.path, properties=props)
    authors = [people[a] for a in d.author_ids if a in people]
    if authors:
        entity["author"] = authors
    if d.properties:
        entity["variableMeasured"] = [_property_entity(crate, d.path, i, p) for i, p in enumerate(d.properties, 1)]
    if d.files:
        entity["hasPart"] = [_file_entity(crate, f) for f in d.files]
    return entity


def build_crate(archive: ElnArchive) -> ROCrate:
    crate = ROCrate(version=RO_CRATE_VERSION)
    crate.name = archive.name
    if archive.description:
        crate.description = archive.description
    if archive.date_created:
        crate.datePublished = archive.date_created
        crate.metadata["dateCreated"] = archive.date_created
    if archive.license:
        crate.license = archive.license
    publisher = crate.add(ContextEntity(crate, "#publisher", properties={
        "@type": "Organization", "name": archive.publisher, **({"url": archive.publisher_url} if archive.publisher_url else {})}))
    crate.metadata["sdPublisher"] = publisher
    crate.root_dataset["publisher"] = publisher
    people = {}
    for p in archive.people:
        body = {"name": p.name}
        body.update({k: v for k, v in (("givenName", p.given_name), ("familyName", p.family_name), ("email", p.email)) if v})
        people[p.id] = crate.add(Person(crate, p.id, properties=body))
    if people:
        crate.root_dataset["author"] = list(people.values())
    entities = {d.path: _dataset_entity(crate, d, people) for d in archive.datasets}
    for d in archive.datasets:
        # Lineage as links between the datasets: a film isBasedOn its ink and its precursor solution.
        links = [entities[p] for p in d.based_on if p in entities]
        if links:
            entities[d.path]["isBasedOn"] = links
    for f in archive.loose_files:
        _file_entity(crate, f)
    return crate


def write_eln(archive: ElnArchive) -> bytes:
    """The .eln bytes (ZIP, deflated). File entities get their sha256 and contentSize here."""
    crate = build_crate(archive)
    root = safe_name(archive.root, "export")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"{root}/", b"")
        for entity in crate.data_entities:
            if entity.type == "Dataset":
                zf.writestr(f"{root}/{unquote(entity.id).rstrip('/')}/", b"")
        for entity in crate.data_entities:
            if entity.type == "File":
                content = b"".join(chunk for _, chunk in entity.stream())
                zf.writestr(f"{root}/{unquote(entity.id)}", content)
        # Generated last: the file entities above are complete by now.
        zf.writestr(f"{root}/{METADATA_NAME}", b"".join(chunk for _, chunk in crate.metadata.stream()))
    return buffer.getvalue()
