"""Read any .eln archive into an ``ElnArchive``, or refuse it with one ``ElnError`` that says why.

An archive comes from outside, so nothing in it is trusted: member names are checked before any
byte is read (no absolute paths, no ``..``, no symlinks, no duplicates), every member is read
through a counter that stops at the declared size and at the limits (a ZIP bomb stops there), the
metadata must be JSON-LD with an ``@graph``, and every file entity is looked up inside the single
root folder only. We parse the metadata ourselves rather than with ``rocrate.ROCrate(zip)``: that
extracts the whole ZIP to a temporary directory first, and it rejects crates other ELNs really
write (data entities not reachable from the root's ``hasPart``).
"""

from __future__ import annotations

import hashlib
import io
import json
import posixpath
import stat
import zipfile
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from .model import LEDGER_PUBLISHER, METADATA_NAME, ElnArchive, ElnDataset, ElnFile, Person, Property


class ElnError(ValueError):
    """The archive cannot be imported; the message says why, for the person who uploaded it."""


@dataclass(frozen=True)
class Limits:
    max_members: int = 10_000
    max_member_bytes: int = 50 * 1024 * 1024
    max_total_bytes: int = 1024 * 1024 * 1024
    max_metadata_bytes: int = 20 * 1024 * 1024
    max_ratio: float = 200.0  # uncompressed/compressed beyond this (for members over 1 MB) is a bomb


def _check_name(name: str) -> None:
    if "\x00" in name or "\\" in name:
        raise ElnError(f"the archive has a member with an unsafe name ({name!r}): backslashes and NUL are refused")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise ElnError(f"the archive has an absolute path ({name!r}); .eln members must be relative to its root folder")
    if ".." in name.split("/"):
        raise ElnError(f"the archive has a member that climbs out of it ({name!r}); refused (path traversal)")


def _members(zf: zipfile.ZipFile, limits: Limits) -> dict[str, zipfile.ZipInfo]:
    infos = zf.infolist()
    if len(infos) > limits.max_members:
        raise ElnError(f"the archive has {len(infos)} members; at most {limits.max_members} are imported at once")
    out: dict[str, zipfile.ZipInfo] = {}
    total = 0
    for info in infos:
        _check_name(info.filename)
        if info.flag_bits & 0x1:
            raise ElnError("the archive is encrypted (password-protected); export it again without a password")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise ElnError(f"{info.filename!r} is a symbolic link; links are refused")
        if info.filename in out:
            raise ElnError(f"{info.filename!r} appears twice in the archive")
        if info.file_size > limits.max_member_bytes:
            raise ElnError(f"{info.filename!r} is {info.file_size / 1e6:.1f} MB, over the "
                           f"{limits.max_member_bytes / 1e6:.0f} MB limit for one file")
        if info.file_size > 1_000_000 and info.file_size > limits.max_ratio * max(info.compress_size, 1):
            raise ElnError(f"{info.filename!r} would expand {info.file_size / max(info.compress_size, 1):.0f}-fold; "
                           "refused as a ZIP bomb")
        total += info.file_size
        if total > limits.max_total_bytes:
            raise ElnError(f"the archive expands to more than {limits.max_total_bytes / 1e6:.0f} MB; refused")
        out[info.filename] = info
    return out


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> bytes:
    """At most ``min(declared size, cap)`` bytes: a header that lies about the size gains nothing."""
    limit = min(info.file_size, cap)
    try:
        with zf.open(info) as fh:
            data = fh.read(limit + 1)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError, ValueError) as exc:
        raise ElnError(f"{info.filename!r} cannot be read from the archive ({exc})") from None
    except Exception as exc:  # zlib.error and friends from a damaged stream
        raise ElnError(f"{info.filename!r} is damaged in the archive ({type(exc).__name__}: {exc})") from None
    if len(data) > limit:
        raise ElnError(f"{info.filename!r} holds more bytes than its header declares; refused")
    return data


def _root_folder(members: dict[str, zipfile.ZipInfo]) -> str:
    """The folder that holds ro-crate-metadata.json ("" when a non-conforming archive has it at the top)."""
    candidates = [n for n in members if posixpath.basename(n) == METADATA_NAME and n.count("/") <= 1]
    if not candidates:
        raise ElnError(f"no {METADATA_NAME} in the archive's root folder: this is not an .eln (RO-Crate) archive")
    if len(candidates) > 1:
        raise ElnError(f"the archive has {len(candidates)} {METADATA_NAME} files at its top; an .eln has one root folder")
    return posixpath.dirname(candidates[0])


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _ref(value: Any) -> str | None:
    if isinstance(value, dict):
        ref = value.get("@id")
        return ref if isinstance(ref, str) else None
    return value if isinstance(value, str) else None


def _types(node: dict) -> set[str]:
    return {t for t in _as_list(node.get("@type")) if isinstance(t, str)}


def _text(value: Any, limit: int = 20_000) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        value = value.get("@value", value.get("name", ""))
    if isinstance(value, list):
        return ", ".join(_text(v, limit) for v in value)[:limit]
    return str(value)[:limit]


def _graph(raw: bytes) -> list[dict]:
    try:
        doc = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise ElnError(f"{METADATA_NAME} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise ElnError(f"{METADATA_NAME} is not valid JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise ElnError(f"{METADATA_NAME} nests too deeply to be read") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("@graph"), list):
        raise ElnError(f"{METADATA_NAME} has no @graph list: not RO-Crate JSON-LD")
    return [n for n in doc["@graph"] if isinstance(n, dict) and isinstance(n.get("@id"), str)]


def _member_for(entity_id: str, root: str) -> str | None:
    """The ZIP member an @id names, inside the root folder only (None for a URL or anything outside)."""
    if "://" in entity_id or entity_id.startswith(("#", "_:", "mailto:")):
        return None
    path = unquote(entity_id)
    if path.startswith("/") or "\\" in path or "\x00" in path:
        return None
    path = posixpath.normpath(path.removeprefix("./"))
    if path.startswith("..") or path == ".":
        return None
    return f"{root}/{path}" if root else path


def _property(node: dict) -> Property | None:
    if "PropertyValue" not in _types(node):
        return None
    value = node.get("value")
    if isinstance(value, dict | list):
        value = _text(value)

    def number(v):
        return v if isinstance(v, int | float) and not isinstance(v, bool) else None

    return Property(property_id=_text(node.get("propertyID")) or _text(node.get("name")), name=_text(node.get("name")),
                    value=value, unit_text=_text(node.get("unitText") or node.get("unitCode")),
                    min_value=number(node.get("minValue")), max_value=number(node.get("maxValue")),
                    description=_text(node.get("description")), measurement_technique=_text(node.get("measurementTechnique")))


def read_eln(source: bytes | io.IOBase, *, limits: Limits | None = None) -> ElnArchive:
    """Parse an .eln. Files listed in the metadata but missing, or whose sha256/size disagree, are
    left out with a warning in ``archive.warnings``; anything unsafe refuses the whole archive."""
    limits = limits or Limits()
    stream = io.BytesIO(source) if isinstance(source, bytes | bytearray) else source
    try:
        zf = zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise ElnError(f"not a ZIP archive ({exc}); an .eln file is a ZIP") from None
    except Exception as exc:  # a header damaged enough to trip struct/zlib
        raise ElnError(f"not a readable ZIP archive ({type(exc).__name__})") from None
    with zf:
        members = _members(zf, limits)
        root = _root_folder(members)
        nodes = _graph(_read_member(zf, members[f"{root}/{METADATA_NAME}" if root else METADATA_NAME],
                                    limits.max_metadata_bytes))
        by_id = {n["@id"]: n for n in nodes}
        descriptor = by_id.get(METADATA_NAME) or by_id.get(f"./{METADATA_NAME}")
        root_id = _ref(descriptor.get("about")) if descriptor else None
        root_node = by_id.get(root_id or "./")
        if root_node is None:
            raise ElnError(f"{METADATA_NAME} names no root dataset (the entity its descriptor is 'about')")
        archive = ElnArchive(root=root, name=_text(root_node.get("name")) or root or "archive",
                             description=_text(root_node.get("description")),
                             date_created=_text(root_node.get("datePublished") or root_node.get("dateCreated")))
        publisher = by_id.get(_ref((descriptor or {}).get("sdPublisher")) or "") or (descriptor or {}).get("sdPublisher")
        publisher = publisher or by_id.get(_ref(root_node.get("publisher")) or "") or {}
        archive.publisher = _text(publisher.get("name")) if isinstance(publisher, dict) else _text(publisher)
        archive.people = [Person(id=n["@id"], name=_text(n.get("name")) or " ".join(
            _text(n.get(k)) for k in ("givenName", "familyName") if n.get(k)).strip(),
            given_name=_text(n.get("givenName")), family_name=_text(n.get("familyName")), email=_text(n.get("email")))
            for n in nodes if "Person" in _types(n)]
        reader = _FileReader(zf, members, root, limits, archive.warnings)
        seen: set[str] = set()
        parts = [by_id[r] for r in (_ref(x) for x in _as_list(root_node.get("hasPart"))) if r in by_id]
        # Datasets first: the root's hasPart is a table of contents that also lists their files.
        for node in parts:
            if "Dataset" in _types(node) and node["@id"] not in seen:
                archive.datasets.append(_dataset(node, by_id, reader, seen))
        for node in parts:
            if "File" in _types(node) and node["@id"] not in seen:
                seen.add(node["@id"])
                f = reader.file(node)
                if f is not None:
                    archive.loose_files.append(f)
    if archive.publisher != LEDGER_PUBLISHER:
        archive.publisher = archive.publisher or "unknown"
    return archive


class _FileReader:
    def __init__(self, zf, members, root, limits: Limits, warnings: list[str]):
        self.zf, self.members, self.root, self.limits, self.warnings = zf, members, root, limits, warnings

    def file(self, node: dict) -> ElnFile | None:
        member = _member_for(node["@id"], self.root)
        label = _text(node.get("name")) or node["@id"]
        if member is None:
            return None  # a web resource, not a file in the archive
        info = self.members.get(member)
        if info is None or info.is_dir():
            self.warnings.append(f"{label}: listed in the metadata but not in the archive; skipped")
            return None
        content = _read_member(self.zf, info, self.limits.max_member_bytes)
        digest = hashlib.sha256(content).hexdigest()
        declared = _text(node.get("sha256")).lower()
        if declared and declared != digest:
            self.warnings.append(f"{label}: sha256 in the metadata ({declared[:12]}…) does not match the bytes "
                                 f"({digest[:12]}…); skipped as damaged")
            return None
        size = _text(node.get("contentSize")).strip()
        if size.isdigit() and int(size) != len(content):
            self.warnings.append(f"{label}: contentSize says {size} bytes, the archive holds {len(content)}; skipped as damaged")
            return None
        return ElnFile(path=member[len(self.root) + 1:] if self.root else member, content=content,
                       name=posixpath.basename(_text(node.get("name"), 255)) or posixpath.basename(member), sha256=digest,
                       encoding_format=_text(node.get("encodingFormat") or node.get("contentType")) or "application/octet-stream",
                       description=_text(node.get("description")), date_created=_text(node.get("dateCreated")))


def _dataset(node: dict, by_id: dict, reader: _FileReader, seen: set[str], depth: int = 0) -> ElnDataset:
    seen.add(node["@id"])
    d = ElnDataset(path=node["@id"], name=_text(node.get("name"), 200) or node["@id"].strip("./") or "dataset",
                   identifier=_text(node.get("identifier")), additional_type=_text(node.get("additionalType")),
                   description=_text(node.get("description")), text=_text(node.get("text")),
                   date_created=_text(node.get("dateCreated")), date_modified=_text(node.get("dateModified")),
                   author_ids=[r for r in (_ref(a) for a in _as_list(node.get("author"))) if r],
                   based_on=[r for r in (_ref(a) for a in _as_list(node.get("isBasedOn"))) if r],
                   keywords=[k.strip() for k in _text(node.get("keywords")).split(",") if k.strip()],
                   url=_text(node.get("url")), node=node)
    for ref in _as_list(node.get("variableMeasured")):
        target = by_id.get(_ref(ref) or "") if _ref(ref) else None
        prop = _property(target if target is not None else ref if isinstance(ref, dict) else {})
        if prop is not None:
            d.properties.append(prop)
    for ref in _as_list(node.get("hasPart")):
        child = by_id.get(_ref(ref) or "")
        if child is None or child["@id"] in seen:
            continue
        if "File" in _types(child):
            seen.add(child["@id"])
            f = reader.file(child)
            if f is not None:
                d.files.append(f)
        elif "Dataset" in _types(child) and depth < 8:
            # A sub-folder's files belong to the same experiment (ELN spec: 'subfolder-with-data').
            sub = _dataset(child, by_id, reader, seen, depth + 1)
            d.files.extend(sub.files)
    return d
