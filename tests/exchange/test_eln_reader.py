"""The .eln reader takes untrusted archives: it returns an ElnArchive or raises one ElnError that
says why, never anything else (hypothesis fuzzes it with damaged and hostile ZIPs)."""

from __future__ import annotations

import io
import json
import stat
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exchange.eln import ElnArchive, ElnDataset, ElnError, ElnFile, Limits, read_eln, write_eln


def _zip(members: dict[str, bytes], **kw) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _crate(graph: list[dict]) -> bytes:
    return json.dumps({"@context": "https://w3id.org/ro/crate/1.1/context", "@graph": graph}).encode()


GOOD = write_eln(ElnArchive(root="good", name="Good", datasets=[ElnDataset(
    "S-1/", "S-1", files=[ElnFile("S-1/data.csv", b"voltage,current\n1,2\n", "data.csv", "text/csv")])]))


def test_a_written_archive_reads_back():
    archive = read_eln(GOOD)
    assert [f.content for d in archive.datasets for f in d.files] == [b"voltage,current\n1,2\n"]
    assert archive.warnings == []


@pytest.mark.parametrize("members, reason", [
    ({"x/../../evil.txt": b"x", "x/ro-crate-metadata.json": b"{}"}, "path traversal"),
    ({"/etc/passwd": b"x"}, "absolute path"),
    ({"x/readme.txt": b"hello"}, "not an .eln"),
    ({"x/ro-crate-metadata.json": b"{not json"}, "not valid JSON: line 1"),
    ({"x/ro-crate-metadata.json": b"[]"}, "no @graph"),
    ({"x/ro-crate-metadata.json": _crate([{"@id": "ro-crate-metadata.json", "about": {"@id": "./nowhere"}}])}, "no root dataset"),
    ({"a/ro-crate-metadata.json": b"{}", "b/ro-crate-metadata.json": b"{}"}, "one root folder"),
])
def test_hostile_or_broken_archives_are_refused_with_a_reason(members, reason):
    with pytest.raises(ElnError, match=reason):
        read_eln(_zip(members))


def test_not_a_zip():
    with pytest.raises(ElnError, match="not a ZIP"):
        read_eln(b"%PDF-1.7 definitely not a zip")


def test_zip_bomb_is_refused_before_it_expands():
    bomb = _zip({"x/ro-crate-metadata.json": _crate([]), "x/zeros.bin": b"\0" * 30_000_000})
    assert len(bomb) < 100_000
    with pytest.raises(ElnError, match="ZIP bomb"):
        read_eln(bomb)


def test_member_over_the_size_limit():
    with pytest.raises(ElnError, match="over the 0 MB limit|limit for one file"):
        read_eln(GOOD, limits=Limits(max_member_bytes=10))


def test_symlink_is_refused():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        info = zipfile.ZipInfo("x/link")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd")
        zf.writestr("x/ro-crate-metadata.json", _crate([]))
    with pytest.raises(ElnError, match="symbolic link"):
        read_eln(buf.getvalue())


def test_entity_pointing_outside_the_root_is_not_read():
    graph = [{"@id": "ro-crate-metadata.json", "about": {"@id": "./"}},
             {"@id": "./", "@type": "Dataset", "hasPart": [{"@id": "../secret.txt"}, {"@id": "ok.txt"}]},
             {"@id": "../secret.txt", "@type": "File"}, {"@id": "ok.txt", "@type": "File", "sha256": "00"}]
    archive = read_eln(_zip({"x/ro-crate-metadata.json": _crate(graph), "x/ok.txt": b"fine", "secret.txt": b"no"}))
    assert archive.loose_files == []  # ok.txt's sha256 is wrong: skipped with a warning
    assert any("sha256" in w for w in archive.warnings)


def test_missing_and_damaged_files_are_warnings_not_crashes():
    graph = [{"@id": "ro-crate-metadata.json", "about": {"@id": "./"}},
             {"@id": "./", "@type": "Dataset", "hasPart": [{"@id": "./d/"}]},
             {"@id": "./d/", "@type": "Dataset", "name": "D", "hasPart": [{"@id": "./d/a.txt"}, {"@id": "./d/b.txt"}]},
             {"@id": "./d/a.txt", "@type": "File", "contentSize": "99"}, {"@id": "./d/b.txt", "@type": "File"}]
    archive = read_eln(_zip({"x/ro-crate-metadata.json": _crate(graph), "x/d/a.txt": b"short"}))
    assert archive.datasets[0].files == []
    assert any("contentSize says 99" in w for w in archive.warnings)
    assert any("b.txt: listed in the metadata but not in the archive" in w for w in archive.warnings)


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
                           lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
                           max_leaves=20)
node = st.fixed_dictionaries({"@id": st.sampled_from(["./", "ro-crate-metadata.json", "./d/", "./d/f.txt", "../x", "/abs", "#p", "f.txt"]),
                              "@type": st.sampled_from(["Dataset", "File", "Person", "PropertyValue", ["Dataset"], 3])},
                             optional={"hasPart": st.lists(st.fixed_dictionaries({"@id": st.sampled_from(["./d/", "./d/f.txt", "f.txt", "../x"])})),
                                       "about": st.fixed_dictionaries({"@id": st.sampled_from(["./", "./d/"])}),
                                       "name": json_values, "sha256": json_values, "contentSize": json_values,
                                       "variableMeasured": json_values, "keywords": json_values, "author": json_values})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graph=st.lists(node, max_size=8), names=st.lists(st.sampled_from(
    ["x/ro-crate-metadata.json", "x/d/f.txt", "x/f.txt", "ro-crate-metadata.json", "x/../y", "y/z"]), max_size=4, unique=True))
def test_fuzzed_metadata_never_crashes(graph, names):
    members = {name: b"data" for name in names}
    if "x/ro-crate-metadata.json" in members:
        members["x/ro-crate-metadata.json"] = _crate(graph)
    try:
        result = read_eln(_zip(members))
    except ElnError:
        return
    assert isinstance(result, ElnArchive)


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_fuzzed_bytes_never_crash(data):
    raw = bytearray(GOOD)
    for _ in range(data.draw(st.integers(1, 8))):
        i = data.draw(st.integers(0, len(raw) - 1))
        raw[i] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(raw)))
    try:
        read_eln(bytes(raw[:cut]) if data.draw(st.booleans()) else bytes(raw))
    except ElnError:
        pass
