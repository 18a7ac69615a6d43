"""Reads that stay cheap at a decade's scale (issue 15): the restriction is a semi-join, counts are
bounded, Compare asks small questions, the metrics API reads warnings in the page's own query."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.access import restrict
from core.pagination import EstimatedPaginator, bounded_count
from measurements import selectors
from measurements.analysis import charts
from measurements.models import Analysis, DerivedMetric
from samples.models import Sample

from . import factories as f


@pytest.mark.django_db
def test_restriction_is_a_semi_join_without_distinct(world):
    for model in (Sample, DerivedMetric, Analysis):
        sql = str(restrict(model.objects.all(), world.alice).query).upper()
        assert "DISTINCT" not in sql
        assert "SAMPLES_PROJECT_MEMBERS" in sql and " IN (SELECT" in sql
    # the same rows as membership says: alice sees alpha's, never beta's
    assert set(restrict(DerivedMetric.objects.all(), world.alice).values_list("sample__project__code", flat=True)) == {"alpha"}
    assert restrict(Sample.objects.all(), world.bob).filter(project=world.alpha).count() == 0
    everything = Sample.objects.all()
    assert restrict(everything, f.user("root-1")) is not everything
    root = f.user("root")
    root.is_superuser = True
    assert restrict(everything, root) is everything  # nothing hidden: the queryset itself


@pytest.mark.django_db
def test_bounded_count_is_exact_below_the_limit_and_says_when_it_estimates(world):
    for _ in range(3):
        f.device(world.alpha, world.alice)
    samples = Sample.objects.all()
    n = samples.count()
    assert bounded_count(samples, limit=1000) == (n, False)
    count, estimated = bounded_count(samples, limit=2)
    if connection.vendor == "postgresql":
        assert estimated and count >= 3  # the planner's figure, never below what the LIMIT found
    else:
        assert (count, estimated) == (n, False)  # SQLite counts exactly
    page = EstimatedPaginator(samples.order_by("pk"), 2).page(1)
    assert page.paginator.count == n and not page.paginator.estimated and len(page) == 2


@pytest.mark.django_db
def test_api_count_says_whether_it_is_estimated(world, client_for):
    body = client_for(world.alice).get("/api/v1/samples/?limit=1").json()
    assert body["count"] == Sample.objects.filter(project=world.alpha).count()
    assert body["count_estimated"] is False


@pytest.mark.django_db
def test_metric_names_come_from_the_index_and_respect_projects(world):
    f.metric(world.dev_b, "luminance_max", 100.0, pixel=world.dev_b.pixels.get(name="B"), unit="cd/m²")
    f.metric(world.dev_a, "turn_on_voltage", 3.0, superseded=True)  # superseded: not offered
    assert selectors.current_metric_names(world.alice) == ["eqe_max"]
    assert selectors.current_metric_names(world.bob) == ["eqe_max", "luminance_max"]
    root = f.user("root")
    root.is_superuser = True
    assert selectors.current_metric_names(root) == ["eqe_max", "luminance_max"]


@pytest.mark.django_db
def test_compare_lists_a_bounded_pick_list_and_takes_typed_labels(world, client_for, monkeypatch):
    from django.test import Client

    monkeypatch.setattr(selectors, "COMPARE_PICKS", 2)
    devices = [f.device(world.alpha, world.alice) for _ in range(4)]
    client = Client()
    client.force_login(world.alice)
    response = client.get("/measurements/compare/")
    assert response.status_code == 200
    assert len(response.context["pick_list"]) == 2  # the newest two, not every candidate
    assert [s.label for s in response.context["pick_list"]] == [devices[3].sample.label, devices[2].sample.label]
    # an older device typed by label (two in one value) is compared and listed ticked
    typed = f"{devices[0].sample.label}, {world.dev_a.sample.label}"
    response = client.get("/measurements/compare/", {"samples": [typed]})
    assert {s.label for s in response.context["samples"]} == {devices[0].sample.label, world.dev_a.sample.label}
    assert response.context["chosen_ids"] <= {s.pk for s in response.context["pick_list"]}
    # another project's label is refused like an unknown one
    response = client.get("/measurements/compare/", {"samples": [world.dev_b.sample.label]})
    assert response.context["form"].errors and not response.context["samples"]


def test_curves_are_thinned_keeping_both_ends_and_the_peak():
    short = charts.overlay_curve([1.0, 2.0, None], [0.5, None, 3.0])
    assert short == [[1.0, 2.0, None], [0.5, None, 3.0]]  # few points: all kept, gaps too
    x = list(range(400))
    y = [2.0 * v for v in x]
    y[137] = 5000.0  # a one-point peak between the evenly spaced indices
    xs, ys = charts.overlay_curve(x, y)
    assert len(xs) <= charts.OVERLAY_POINTS and xs[0] == 0 and xs[-1] == 399
    assert xs == sorted(xs) and 137 in xs and max(ys) == 5000.0
    assert all(yy == 2 * xx for xx, yy in zip(xs, ys, strict=True) if xx != 137)


def test_drawn_points_are_rounded_to_four_significant_digits():
    xs, ys = charts.overlay_curve([0.123456, 1234.567, 1.0e-5 / 3], [2 / 3, 98765.4, -0.00012345])
    assert xs == [0.1235, 1235.0, 3.333e-06] and ys == [0.6667, 98770.0, -0.0001234]


@pytest.mark.django_db
def test_metric_list_reads_warnings_without_a_query_per_row(world, client_for):
    for i in range(12):
        dev = f.device(world.alpha, world.alice)
        analysis = Analysis.objects.create(kind="jlv", method="test", version="1", sample=dev.sample,
                                           pixel=dev.pixels.get(name="A"), warnings=[f"warning {i}"],
                                           result={"arrays": {"v": list(range(400))}})
        f.metric(dev, pixel=dev.pixels.get(name="A"), value=i).__class__.objects.filter(
            sample=dev.sample).update(analysis=analysis)
    client = client_for(world.alice)
    client.get("/api/v1/metrics/?limit=1")
    with CaptureQueriesContext(connection) as small:
        client.get("/api/v1/metrics/?limit=2")
    with CaptureQueriesContext(connection) as large:
        body = client.get("/api/v1/metrics/?limit=12").json()
    assert len(large) == len(small)
    assert sum(1 for m in body["results"] if m["warnings"] and m["warnings"][0].startswith("warning ")) >= 11
    assert not any("result" in q["sql"] and "measurements_analysis" in q["sql"] for q in large.captured_queries)
