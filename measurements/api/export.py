"""The group lead's table: one row per pixel, device or sample; one column per current metric
and per recipe parameter of the sample's lineage (actual value where logged, else planned).

Streamed in bounded memory (issue 15: a project of 1M metrics took 114 s and 1.4 GB when every
metric came back as a model with its analysis's curves): the header comes from two small queries
(the metric columns; the parameter columns of every visible run in the lineage), then the metric
rows stream as plain value tuples from a server-side cursor, ordered by sample, and every
``CHUNK_SAMPLES`` samples take their lineage (one recursive query), what of it the user may see (1)
and those runs' values (1). CSV is written as it goes; Excel through openpyxl's write-only
workbook into a temporary file.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterator

from django.db.models import OuterRef, QuerySet, Subquery

from measurements.models import Aggregate, MeasurementFile
from samples.selectors import lineage_parameter_columns, lineage_run_ids, run_parameter_columns

ID_COLUMNS = ["target", "scope", "sample", "device", "pixel", "project", "sample_name"]
# What a number's caveats are travel with it: each metric's flags and its analysis's warnings.
CAVEAT_COLUMNS = ["flags", "warnings"]
# What made the row's sample (its run, recipe and version) and when it was measured (the newest
# "measured at" its files state; blank when none says — never the upload time in its place).
ORIGIN_COLUMNS = ["run", "recipe", "recipe_version", "measured_at"]
CHUNK_SAMPLES = 500
FIELDS = ["sample_id", "pixel_id", "device_id", "scope", "subject", "name", "aggregate", "unit", "value", "flags",
          "analysis__warnings", "sample__label", "sample__name", "sample__project__code", "device__sample__label",
          "pixel__label", "sample__produced_by__label", "sample__produced_by__recipe_version__recipe__name",
          "sample__produced_by__recipe_version__number", "measured_at"]


def metric_column(name: str, aggregate: str, unit: str) -> str:
    unit = f" [{unit}]" if unit else ""
    agg = f" ({aggregate})" if aggregate != Aggregate.VALUE else ""
    return f"{name}{agg}{unit}"


class MetricsTable:
    """``header`` and ``rows()`` (lists, in header order) of the export of ``metrics`` for ``user``."""

    def __init__(self, metrics: QuerySet, user):
        self.metrics, self.user = metrics.order_by(), user
        metric_columns = sorted({metric_column(*c) for c in self.metrics.values_list("name", "aggregate", "unit")
                                 .distinct()})
        self.param_columns = lineage_parameter_columns(self.metrics.values("sample_id"), user)
        self.header = ID_COLUMNS + CAVEAT_COLUMNS + ORIGIN_COLUMNS + metric_columns + self.param_columns
        self._index = {c: i for i, c in enumerate(self.header)}

    def rows(self) -> Iterator[list]:
        measured = (MeasurementFile.objects.filter(analyses=OuterRef("analysis_id"), measured_at__isnull=False)
                    .order_by("-measured_at").values("measured_at")[:1])
        stream = (self.metrics.annotate(measured_at=Subquery(measured)).values_list(*FIELDS).order_by("sample_id", "pixel_id", "name", "-created_at", "-id")
                  .iterator(chunk_size=2000))
        pending: dict[int, list[tuple]] = {}
        for row in stream:
            if row[0] not in pending and len(pending) >= CHUNK_SAMPLES:
                yield from self._emit(pending)
                pending = {}
            pending.setdefault(row[0], []).append(row)
        if pending:
            yield from self._emit(pending)

    def _emit(self, by_sample: dict[int, list[tuple]]) -> Iterator[list]:
        runs_of = lineage_run_ids(list(by_sample), self.user)
        params = run_parameter_columns({r for ids in runs_of.values() for r in ids})
        width, index = len(self.header), self._index
        for sample_id, metric_rows in by_sample.items():
            targets: dict[tuple, list] = {}
            caveats: dict[tuple, tuple[list[str], list[str]]] = {}
            for (_sid, pixel_id, device_id, scope, subject, name, aggregate, unit, value, flags, warnings_,
                 sample_label, sample_name, project, device_label, pixel_label, run_label, recipe, recipe_version,
                 measured_at) in metric_rows:
                target = ("pixel", pixel_id) if pixel_id else ("device", device_id) if device_id and scope != "sample" \
                    else ("sample", sample_id)
                key = (*target, subject)
                out = targets.get(key)
                if out is None:
                    out = targets[key] = [None] * width
                    out[:7] = [(pixel_label or sample_label) + (f" · {subject}" if subject else ""), scope,
                               sample_label, device_label, pixel_label, project, sample_name]
                    out[9:12] = [run_label, recipe, recipe_version]
                    caveats[key] = ([], [])
                if measured_at is not None and (out[12] is None or measured_at > out[12]):
                    out[12] = measured_at
                i = index[metric_column(name, aggregate, unit)]
                if out[i] is None:  # newest first within a name: keep the first seen
                    out[i] = value
                    flag_list, warning_list = caveats[key]
                    if flags:
                        flag_list.append(f"{name}: {', '.join(flags)}")
                    for warning in warnings_ or []:
                        if warning not in warning_list:
                            warning_list.append(warning)
            for key, out in targets.items():
                for run_id in runs_of.get(sample_id, []):
                    for column, value in params.get(run_id, {}).items():
                        i = index.get(column)
                        if i is not None and out[i] is None:  # nearest run wins if two share a recipe
                            out[i] = value
                flag_list, warning_list = caveats[key]
                out[7], out[8] = "; ".join(flag_list), " | ".join(warning_list)
                if out[12] is not None:
                    out[12] = out[12].isoformat()
                yield out


def csv_chunks(table: MetricsTable, rows_per_chunk: int = 500) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(table.header)
    for n, row in enumerate(table.rows(), start=1):
        writer.writerow(["" if v is None else v for v in row])
        if n % rows_per_chunk == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def xlsx_file(table: MetricsTable):
    """A temporary file holding the workbook (write-only: rows go to disk as they come)."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("metrics")
    sheet.append(table.header)
    for row in table.rows():
        sheet.append(row)
    out = tempfile.TemporaryFile()
    book.save(out)
    out.seek(0)
    return out


# Small tables that are already a DataFrame (insights' drivers table) are written whole.
def to_csv(frame) -> bytes:
    return frame.to_csv(index=False).encode("utf-8")


def to_xlsx(frame) -> bytes:
    buffer = io.BytesIO()
    frame.to_excel(buffer, index=False, sheet_name="metrics", engine="openpyxl")
    return buffer.getvalue()
