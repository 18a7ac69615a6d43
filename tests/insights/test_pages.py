"""The insights pages and API on weeks 1–4 of the campaign, loaded through the real services and
measurement pipeline (so the DataFrame comes from the database and the lineage join)."""

from __future__ import annotations

import html
import io
import re

import pandas as pd
import pytest
from django.contrib.auth import get_user_model

from insights import selectors
from recipes.models import Recipe
from samples.models import ProcessRun, RunStatus

pytestmark = pytest.mark.django_db
FILM = "QD-in-matrix film (QD-ink drip)"


@pytest.fixture
def lead(client, loaded_campaign):
    user = get_user_model().objects.get(username="demo")
    client.force_login(user)
    return client


def test_the_frame_carries_actual_values_versions_runs_and_lots(loaded_campaign, campaign):
    user = get_user_model().objects.get(username="demo")
    data = selectors.insights_data(user, recipe=Recipe.objects.get(name=FILM))
    rows = data.rows
    assert {"eqe_max", "luminance_max", "t50"} <= set(data.metrics)
    drip = f"{FILM} · 4.volume [µL]"
    units = rows.groupby("unit")[drip].first()
    assert sorted(units.round(0).tolist()) == sorted(float(d.knobs.drip_ul) for d in campaign.devices[:20])
    assert set(rows[f"{FILM} · version"].dropna()) == {"v1", "v2"}
    lot = "Quasi-2D matrix precursor (40 % Br, n = 3) · lot PEAI"
    assert set(rows[lot].dropna()) == {"DEMO-PEAI-01", "DEMO-PEAI-02"}
    # The PROCESS.md chain's own devices are not in the film family unless measured: none is here.
    assert rows["unit"].nunique() == 20
    table = selectors.drivers_for(data, ["eqe_max"])
    peai = next(r for r in table.rows if r.parameter.endswith("1.peai [mg]"))
    assert peai.n_runs == 8 and peai.n_units == 20


def test_drivers_page_table_plots_and_downloads(lead):
    page = lead.get("/insights/drivers/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "QD ink volume [µL]" in html and 'class="ichart"' in html
    csv = lead.get("/insights/drivers/?format=csv")
    assert csv.content.startswith(b"\xef\xbb\xbf")  # a web download is for Excel: UTF-8 BOM (core.downloads)
    frame = pd.read_csv(io.BytesIO(csv.content), encoding="utf-8-sig")
    assert {"rank", "metric", "parameter", "effect", "ci_low", "ci_high", "n_units"} <= set(frame.columns)
    top = frame[frame.metric == "eqe_max"].sort_values("rank").iloc[0]
    assert top.parameter.endswith("4.volume [µL]") and top.effect > 0
    xlsx = lead.get("/insights/drivers/?format=xlsx")
    assert pd.read_excel(io.BytesIO(xlsx.content)).shape == frame.shape
    param = f"{FILM} · 4.time [s]"
    lazy = lead.get("/insights/drivers/plot/", {"metric": "eqe_max", "parameter": param})
    assert lazy.status_code == 200 and b"<svg" in lazy.content
    assert lead.get("/insights/drivers/plot/", {"metric": "nope", "parameter": param}).status_code == 404


def test_control_page_marks_and_lists_the_bad_lot(lead):
    page = lead.get("/insights/", {"metric": "t50"})
    html = page.content.decode()
    assert page.status_code == 200
    for point in ("DEV-0021", "DEV-0022", "DEV-0023"):  # the week-4 devices of DEMO-PEAI-02 (labels after PROCESS.md's)
        assert f'data-label="{point}"' in html
    assert 'data-lot="DEMO-PEAI-02"' in html and "suspect" in html
    assert html.count('class="point ooc"') >= 3


def test_recipe_page_and_home_show_the_panels(lead):
    recipe = Recipe.objects.get(name=FILM)
    page = lead.get(f"/recipes/{recipe.pk}/?v=2").content.decode()
    assert 'id="recipe-control"' in page and "<strong>v2</strong>: 10 devices" in page and 'class="ichart"' in page
    home = lead.get("/").content.decode()
    assert 'id="out-of-control"' in home and "DEV-0021" in home


def test_home_points_skip_only_recipes_without_a_recent_metric(loaded_campaign, monkeypatch):
    from django.core.cache import cache
    from django.utils import timezone

    from measurements.models import DerivedMetric

    user = get_user_model().objects.get(username="demo")
    film = Recipe.objects.get(name=FILM)
    assert film.pk in selectors._recipes_with_metrics_since(timezone.now() - pd.Timedelta(days=14),
                                                             selectors.WATCHED_METRICS)
    cache.clear()
    points = selectors.new_out_of_control_points(user)
    assert {p["label"] for p in points} >= {"DEV-0021"}
    every = set(Recipe.objects.values_list("pk", flat=True))
    monkeypatch.setattr(selectors, "_recipes_with_metrics_since", lambda since, metrics: every)
    cache.clear()
    assert selectors.new_out_of_control_points(user) == points  # the same panel as charting every recipe
    monkeypatch.undo()
    # Metrics stored three weeks ago: no recipe is charted, no point shown, the panel is empty.
    DerivedMetric.objects.update(created_at=timezone.now() - pd.Timedelta(days=21))
    cache.clear()
    assert selectors._recipes_with_metrics_since(timezone.now() - pd.Timedelta(days=14), selectors.WATCHED_METRICS) == set()
    charted = []
    monkeypatch.setattr(selectors, "control_data", lambda *a, **k: charted.append(k) or None)
    assert selectors.new_out_of_control_points(user) == [] and charted == []


def test_suggest_then_plan_makes_planned_runs_with_the_proposed_values(lead):
    recipe = Recipe.objects.get(name=FILM)
    version = recipe.versions.get(number=2)
    page = lead.get("/insights/suggest/", {"version": version.pk, "objective": "eqe_max", "batch": 3, "scope": "recipe",
                                           "seed": 1, "mode_5_temperature": "fix", "value_5_temperature": 50})
    assert page.status_code == 200
    result = page.context["result"]
    assert len(result.proposals) == 3 and result.n_history == 20
    for p in result.proposals:
        assert 100 <= p.values["4.volume"] <= 200 and p.values["5.temperature"] == 50
        assert p.predicted is not None and p.predicted_std >= 0 and "eqe_max" in p.metrics
    plan = page.context["plan_form"]
    before = ProcessRun.objects.count()
    # Post what the rendered form holds (the hidden input's value), as the browser does.
    hidden = re.search(r'<input type="hidden" name="proposals" value="([^"]*)"', page.content.decode())
    assert hidden, "the plan form carries the proposals"
    response = lead.post("/insights/suggest/plan/", {"version": version.pk, "project": plan.initial["project"],
                                                      "proposals": html.unescape(hidden.group(1)), "note": plan.initial["note"]})
    assert response.status_code == 302 and "/insights/suggest/planned/?runs=" in response["Location"]
    runs = list(ProcessRun.objects.order_by("-pk")[:3])
    assert ProcessRun.objects.count() == before + 3 and all(r.status == RunStatus.PLANNED for r in runs)
    by_path = {f"{v.parameter.step.order}.{v.parameter.key}": v for v in runs[-1].values.select_related("parameter__step")}
    assert by_path["4.volume"].planned_nominal == result.proposals[0].values["4.volume"]
    assert (by_path["4.volume"].planned_min, by_path["4.volume"].planned_max) == (100, 200)
    planned = lead.get(response["Location"])
    assert planned.status_code == 200 and runs[0].label in planned.content.decode()


def test_planning_outside_the_range_is_refused_whole(lead):
    version = Recipe.objects.get(name=FILM).versions.get(number=2)
    before = ProcessRun.objects.count()
    response = lead.post("/insights/suggest/plan/", {"version": version.pk, "project": "qd-in-matrix",
                                                      "proposals": '[{"4.volume": 150}, {"4.volume": 250}]'}, follow=True)
    assert ProcessRun.objects.count() == before
    assert "is outside the recipe" in response.content.decode()


def test_api_endpoints(lead):
    recipe = Recipe.objects.get(name=FILM)
    drivers = lead.get("/api/v1/insights/drivers/", {"recipe": recipe.pk, "metric": "eqe_max"}).json()
    assert drivers["metrics"] == ["eqe_max"] and drivers["rows"][0]["parameter"].endswith("4.volume [µL]")
    assert lead.get("/api/v1/insights/drivers/", {"metric": "nope"}).status_code == 400
    api_csv = lead.get("/api/v1/insights/drivers/", {"recipe": recipe.pk, "download": "csv"})
    assert api_csv["Content-Type"].startswith("text/csv") and not api_csv.content.startswith(b"\xef\xbb\xbf")
    with_bom = lead.get("/api/v1/insights/drivers/", {"recipe": recipe.pk, "download": "csv", "bom": "1"})
    assert with_bom.content == b"\xef\xbb\xbf" + api_csv.content
    control = lead.get("/api/v1/insights/control/", {"recipe": recipe.pk, "metric": "t50"}).json()
    v2 = next(c for c in control["charts"] if c["version"] == "v2")
    assert {p["label"] for p in v2["points"] if 1 in p["rules"]} == {"DEV-0021", "DEV-0022", "DEV-0023"}
    lots = control["lots"][0]["lots"]
    assert [lot["lot"] for lot in lots if lot["flagged"]] == ["DEMO-PEAI-02"]
    version = recipe.versions.get(number=2)
    suggest = lead.post("/api/v1/insights/suggest/", {"version": version.pk, "batch": 2, "fixed": {"5.temperature": 52},
                                                      "ranges": {"4.volume": [150, 200]}}, content_type="application/json")
    assert suggest.status_code == 200, suggest.content
    body = suggest.json()
    assert len(body["proposals"]) == 2
    assert all(150 <= p["values"]["4.volume"] <= 200 and p["values"]["5.temperature"] == 52 for p in body["proposals"])
    bad = lead.post("/api/v1/insights/suggest/", {"version": version.pk, "ranges": {"4.volume": [50, 200]}},
                    content_type="application/json")
    assert bad.status_code == 400 and "not inside 100–200" in bad.json()["error"]["message"]
    plan = lead.post("/api/v1/insights/plan/", {"version": version.pk, "project": "qd-in-matrix",
                                                "proposals": [p["values"] for p in body["proposals"]]},
                     content_type="application/json")
    assert plan.status_code == 201 and [r["status"] for r in plan.json()] == ["planned", "planned"]


def test_the_pipeline_marks_measured_runs_and_the_window_keeps_the_newest_of_each_version(loaded_campaign, monkeypatch):
    """ProcessRun.first_measured_at is set for every run in a measured device's lineage (and only
    those); with a window of 2 the frame holds exactly the units of each version's 2 newest measured
    film runs, and the charts are those of the full frame restricted to them."""
    from samples.selectors import lineage_run_ids

    user = get_user_model().objects.get(username="demo")
    film = Recipe.objects.get(name=FILM)
    full = selectors.insights_data(user, recipe=film, parameters=False)
    measured_units = set(full.rows["sample_id"])
    in_lineage = {r for ids in lineage_run_ids(sorted(measured_units), user).values() for r in ids}
    marked = set(ProcessRun.objects.filter(first_measured_at__isnull=False).values_list("pk", flat=True))
    assert in_lineage and in_lineage <= marked
    film_runs = ProcessRun.objects.filter(recipe_version__recipe=film)
    assert set(film_runs.filter(first_measured_at__isnull=False).values_list("pk", flat=True)) <= in_lineage

    ids, window = selectors.window_run_ids(film, user, 2)
    assert window.partial and window.runs == len(ids) == 4 and window.total == film_runs.filter(
        first_measured_at__isnull=False).count()  # v1 and v2, two runs each
    newest = {}
    for run in film_runs.filter(first_measured_at__isnull=False).select_related("recipe_version"):
        newest.setdefault(run.recipe_version.number, []).append(((run.planned_date, run.created_at, run.pk), run.label))
    expected_labels = {label for runs in newest.values() for _, label in sorted(runs, reverse=True)[:2]}
    small = selectors.insights_data(user, recipe=film, parameters=False, window=2)
    run_col = f"{FILM} · run"
    assert set(small.rows[run_col]) == expected_labels
    kept = full.rows[full.rows[run_col].isin(expected_labels)]
    assert sorted(small.rows["unit"]) == sorted(kept["unit"])
    assert small.window.partial and not full.window.partial
    a = selectors.control_charts(small, "eqe_max")
    b = selectors.control_charts(dataclasses_replace_rows(full, kept), "eqe_max")
    assert [(c.group, c.centre, c.sigma, [p.value for p in c.points]) for c in a.charts] == \
        [(c.group, c.centre, c.sigma, [p.value for p in c.points]) for c in b.charts]


def dataclasses_replace_rows(data, rows):
    import dataclasses

    return dataclasses.replace(data, rows=rows.reset_index(drop=True))


def test_control_views_keep_their_query_count_whatever_the_window(lead, django_assert_max_num_queries, monkeypatch):
    """The recipe page and the control page ask the same number of queries for a window of 2 runs
    as for every run (the family is walked one generation per query, not one per sample)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    film = Recipe.objects.get(name=FILM)
    counts = {}
    for window in (2, 0):
        monkeypatch.setattr(selectors, "WINDOW_RUNS", window)
        for url in (f"/recipes/{film.pk}/", f"/insights/?recipe={film.pk}"):
            from django.core.cache import cache

            cache.clear()
            with CaptureQueriesContext(connection) as ctx:
                response = lead.get(url)
            assert response.status_code == 200
            counts[(window, url)] = len(ctx)
            said = "From the newest 2 measured runs of each version" in response.content.decode()
            assert said == (window == 2), url  # the page says when it charts a window
    for url in (f"/recipes/{film.pk}/", f"/insights/?recipe={film.pk}"):
        assert counts[(2, url)] <= counts[(0, url)] + 1, counts  # +1: the window's own ranking query
    with CaptureQueriesContext(connection) as ctx:  # cached: the stamp, not the frame
        assert lead.get(f"/insights/?recipe={film.pk}").status_code == 200
    assert len(ctx) < counts[(0, f"/insights/?recipe={film.pk}")], counts


# The drivers table's row before it became one tag (insights_tags.driver_row), with the interval glyph
# its include drew: the reference markup.
ROW_TEMPLATE = """{% load measurement_tags insights_tags %}{% with r=item.row %}
<tr class="{% if r.significant %}sig{% endif %}{% if r.effect is None %} skipped{% endif %}" data-parameter="{{ r.parameter }}" data-rank="{{ r.rank|default:'' }}">
  <td class="num">{{ r.rank|default:"—" }}</td>
  <td class="param"><strong>{{ item.col.short|default:item.label }}</strong><div class="small muted">{{ item.col.where }}</div>{% if r.kind == "categorical" and r.level %}<div class="small">{{ r.level }} vs the rest: {{ r.level_shift|sig:3 }} {{ unit }}</div>{% endif %}</td>
  <td class="num effect">{% if r.effect is not None %}{{ r.effect|floatformat:2 }}{% else %}—{% endif %}</td>
  <td class="nowrap">{% if r.effect is not None %}<span class="interval" title="{{ r.ci_low|floatformat:2 }} to {{ r.ci_high|floatformat:2 }}"><svg viewBox="0 0 100 10" width="100" height="10" aria-hidden="true"><line class="zero" x1="50" x2="50" y1="0" y2="10"/><line class="ci" x1="{{ r.ci_low|unit_x }}" x2="{{ r.ci_high|unit_x }}" y1="5" y2="5"/><circle class="est" cx="{{ r.effect|unit_x }}" cy="5" r="2.6"/></svg> <span class="small muted">[{{ r.ci_low|floatformat:2 }}, {{ r.ci_high|floatformat:2 }}]</span></span>{% endif %}</td>
  <td class="num nowrap">{% if r.slope is not None %}{{ r.slope|sig:3 }} <span class="muted small">[{{ r.slope_ci_low|sig:2 }}, {{ r.slope_ci_high|sig:2 }}]</span>{% endif %}</td>
  <td class="num">{% if r.q_value is not None %}{{ r.q_value|sig:2 }}{% endif %}</td>
  <td class="num nowrap">{% if r.n_runs is not None %}{{ r.n_runs }} <span class="muted small">runs · {{ r.n_units }} dev. ({{ r.n_rows }})</span>{% else %}{{ r.n_units }} <span class="muted small">({{ r.n_rows }})</span>{% endif %}</td>
  <td class="small">{{ r.warnings|join:"; " }}</td>
</tr>{% endwith %}"""


def _tags_only(markup: str) -> str:
    return re.sub(r">\s+<", "><", markup.strip())


def test_a_drivers_row_is_the_markup_the_template_made(loaded_campaign):
    from django.template import Context, Template

    from insights.science.drivers import Driver
    from insights.templatetags.insights_tags import driver_row

    user = get_user_model().objects.get(username="demo")
    data = selectors.insights_data(user, recipe=Recipe.objects.get(name=FILM))
    table = selectors.drivers_for(data, data.metrics)
    reference = Template(ROW_TEMPLATE)
    # Every row of the campaign's table (numeric and categorical, ranked and skipped), and the
    # corners a demo does not reach: markup in names and warnings, no column, a categorical level.
    odd = [Driver(metric="eqe_max", parameter='<b>"x" & y</b>', kind="categorical", n_units=3, n_rows=7, n_runs=2,
                  effect=-0.0049, ci_low=-0.015, ci_high=0.125, q_value=None, level="lot <A>", level_shift=-12.345,
                  warnings=["moved with <z>", "few & far"], rank=0),
           Driver(metric="eqe_max", parameter="p", kind="numeric", n_units=5, n_rows=5, effect=0.995, ci_low=None,
                  ci_high=2.675, slope=1234567.0, slope_ci_low=None, slope_ci_high=0.000123, q_value=0.0301, rank=4)]
    rows = list(table.rows) + odd
    assert len(rows) > 20 and any(r.kind == "categorical" for r in table.rows) and any(r.effect is None for r in table.rows)
    for row in rows:
        for unit in ("%", "cd m⁻² & <b>"):
            item = {"row": row, "col": data.columns.get(row.parameter), "label": data.label(row.parameter)}
            expected = reference.render(Context({"item": item, "unit": unit}))
            assert _tags_only(driver_row(item, unit)) == _tags_only(expected), row


def test_fixed2_is_floatformat_2():
    import random

    from django.template.defaultfilters import floatformat

    from insights.templatetags.insights_tags import fixed2

    rng = random.Random(7)
    values = [None, "", "x", 0, -0.0, 1, -1, 0.005, 0.015, 0.125, 2.675, -0.0049, 0.995, 1e-9, -1e-9, 123456.789,
              float("nan"), float("inf"), float("-inf")]
    values += [rng.uniform(-1, 1) for _ in range(2000)] + [round(rng.uniform(-1, 1), 3) for _ in range(2000)]
    assert [fixed2(v) for v in values] == [floatformat(v, 2) for v in values]


def test_the_drivers_page_drawn_again_takes_its_plots_from_the_cache(lead, monkeypatch):
    from django.core.cache import cache

    from insights import figures

    cache.clear()
    first = lead.get("/insights/drivers/")
    assert first.status_code == 200 and first.content.count(b'<div class="driver-plot"><svg') >= 3
    from insights import pages

    drawn, rendered = [], []
    real, real_render = figures.driver_plot, pages.render_to_string
    monkeypatch.setattr(figures, "driver_plot", lambda *a: drawn.append(a) or real(*a))
    monkeypatch.setattr(pages, "render_to_string", lambda *a, **k: rendered.append(a) or real_render(*a, **k))
    again = lead.get("/insights/drivers/")
    tables = lambda page: page.content.decode().split('id="drivers-form"')[1]  # noqa: E731 (past the head's nonce)
    assert tables(again) == tables(first) and drawn == [] and rendered == []  # the tables' HTML too
    # A run value saved as it was: the stamp moves and the frame is read again, but it is the same,
    # so nothing is drawn again. Changed, it is: the frame, table and plots are made again.
    from samples.models import RunValue

    user = get_user_model().objects.get(username="demo")
    data = selectors.family_data(user, recipe=selectors.default_recipe(user))
    run = data.rows[data.recipe_column("run")].dropna().iloc[0]
    value = RunValue.objects.filter(run__label=run, actual_value__isnull=False).first()
    value.save()  # a history row: what the stamp reads
    assert lead.get("/insights/drivers/").status_code == 200 and drawn == []
    value.actual_value *= 1.5
    value.save()
    assert lead.get("/insights/drivers/").status_code == 200 and len(drawn) >= 3 and len(rendered) == 1


def test_insights_caches_are_shared_by_the_same_projects_and_forget_a_removed_member(loaded_campaign, monkeypatch):
    """The family frame is cached per set of projects seen, not per person: a second member of the
    same projects reads the first one's frame; taken off the project, they stop reading it at once
    (a new key), and see no unit of it."""
    from django.core.cache import cache

    from core.access import visibility_key
    from samples.models import Project

    demo = get_user_model().objects.get(username="demo")  # a superuser: sees every project
    ann = get_user_model().objects.create_user("ann", password="x-ann-pass-9")
    twin = get_user_model().objects.create_user("twin", password="x-twin-pass-9")
    projects = list(Project.objects.filter(members=demo))
    assert projects
    for project in projects:
        project.members.add(ann, twin)
    assert visibility_key(twin) == visibility_key(ann) != visibility_key(demo) == "all"
    film = Recipe.objects.get(name=FILM)
    cache.clear()
    built = []
    real = selectors.insights_data
    monkeypatch.setattr(selectors, "insights_data", lambda *a, **k: built.append(a) or real(*a, **k))
    mine = selectors.family_data(ann, recipe=film)
    theirs = selectors.family_data(twin, recipe=film)
    assert len(built) == 1 and theirs.cache_key == mine.cache_key and theirs.rows["unit"].nunique() == 20
    for project in projects:
        project.members.remove(twin)
    gone = selectors.family_data(twin, recipe=film)
    assert len(built) == 2 and gone.cache_key != mine.cache_key and gone.rows.empty
    assert selectors.family_data(ann, recipe=film).rows["unit"].nunique() == 20 and len(built) == 2


def test_a_driver_table_is_computed_again_only_when_its_rows_change(loaded_campaign, monkeypatch):
    """Something measured or made elsewhere in the lab moves the stamp, so the family's rows are read
    again; they come out the same, so the driver table is not computed again. A changed actual of
    the family (a drip volume corrected) makes new rows and a new table."""
    from django.core.cache import cache

    from samples.models import Project, RunValue, Sample

    demo = get_user_model().objects.get(username="demo")
    film = Recipe.objects.get(name=FILM)
    cache.clear()
    computed, read = [], []
    real, real_read = selectors.drivers_for, selectors.insights_data
    monkeypatch.setattr(selectors, "drivers_for", lambda data, metrics: computed.append(metrics) or real(data, metrics))
    monkeypatch.setattr(selectors, "insights_data", lambda *a, **k: read.append(a) or real_read(*a, **k))
    before = selectors.family_data(demo, recipe=film)
    table = selectors.drivers_table(before, ["eqe_max"])
    Sample.objects.create(kind="film", project=Project.objects.first(), name="made for another recipe")
    again = selectors.family_data(demo, recipe=film)
    assert len(read) == 2 and again.cache_key == before.cache_key  # read again, the same content
    assert selectors.drivers_table(again, ["eqe_max"]).rows == table.rows and len(computed) == 1
    run = again.rows[again.recipe_column("run")].dropna().iloc[0]  # a run that made a measured unit
    drip = RunValue.objects.get(run__label=run, parameter__key="volume")
    drip.actual_value += 7.0
    drip.save()
    changed = selectors.family_data(demo, recipe=film)
    assert changed.cache_key != before.cache_key
    selectors.drivers_table(changed, ["eqe_max"])
    assert len(computed) == 2


def test_the_drivers_tables_html_is_cached_per_metric_choice_and_family_filter(lead):
    """The tables' HTML is cached by content, but the chosen metrics and the family's project filter
    are part of its key: the lazy plots' links carry the filter even when the rows are the same."""
    from django.core.cache import cache

    from samples.models import Project

    demo = get_user_model().objects.get(username="demo")
    film = Recipe.objects.get(name=FILM)
    units = selectors.family_data(demo, recipe=film).rows["unit"]
    project = Project.objects.get(samples__label=units.iloc[0])
    # The same rows with and without the filter (every unit of the family is in that project).
    assert selectors.family_data(demo, recipe=film, project=project).cache_key == \
        selectors.family_data(demo, recipe=film).cache_key
    cache.clear()
    page = lambda query: lead.get(f"/insights/drivers/?recipe={film.pk}&{query}").content.decode()  # noqa: E731
    eqe, lum = page("metrics=eqe_max"), page("metrics=luminance_max")
    assert 'id="metric-eqe_max"' in eqe and 'id="metric-luminance_max"' not in eqe
    assert 'id="metric-luminance_max"' in lum and 'id="metric-eqe_max"' not in lum
    filtered = page(f"project={project.code}&metrics=eqe_max")
    lazy = re.compile(r'hx-get="[^"]*/drivers/plot/\?([^"]*)"')
    assert lazy.search(filtered) and all(f"project={project.code}" in q for q in lazy.findall(filtered))
    assert all("project=" not in q for q in lazy.findall(eqe))


def test_a_chosen_recipe_stays_chosen_with_a_metric_in_the_query(lead, monkeypatch):
    """The form's submit carries the metric(s) ticked: the page must chart the recipe asked for, not
    fall back to the default one because the probe form knew no metric choices yet."""
    user = get_user_model().objects.get(username="demo")
    default = selectors.default_recipe(user)
    other = next(r for r in selectors.recipe_choices(user)
                 if r.pk != default.pk and not selectors.family_data(user, recipe=r).rows.empty)
    metric = selectors.family_data(user, recipe=other).metrics[0]
    asked = []
    real_family, real_control = selectors.family_data, selectors.control_data
    monkeypatch.setattr(selectors, "family_data", lambda u, **k: asked.append(k["recipe"]) or real_family(u, **k))
    monkeypatch.setattr(selectors, "control_data", lambda u, **k: asked.append(k["recipe"]) or real_control(u, **k))
    for url in (f"/insights/drivers/?recipe={other.pk}&metrics={metric}", f"/insights/?recipe={other.pk}&metric={metric}"):
        asked.clear()
        page = lead.get(url)
        assert page.status_code == 200 and asked and all(r == other for r in asked), url
        assert f'<option value="{other.pk}" selected' in page.content.decode()


def test_a_sample_moved_to_another_project_leaves_the_cached_rows_at_once(loaded_campaign):
    """An edit in place (the admin moving a device to another project: no new id anywhere) moves
    the stamp through the sample's history, so a member of the old project stops seeing it on the
    next read, not when the cached rows expire (a day)."""
    from samples.models import Project, Sample

    demo = get_user_model().objects.get(username="demo")
    ann = get_user_model().objects.create_user("ann", password="x-ann-pass-9")
    for project in Project.objects.filter(members=demo):
        project.members.add(ann)
    elsewhere = Project.objects.create(code="elsewhere", name="Somebody else's project")
    film = Recipe.objects.get(name=FILM)
    unit = selectors.family_data(ann, recipe=film).rows["unit"].iloc[0]
    assert unit in set(selectors.control_data(ann, recipe=film).rows["unit"])
    sample = Sample.objects.get(label=unit)
    sample.project = elsewhere
    sample.save()
    assert unit not in set(selectors.family_data(ann, recipe=film).rows["unit"])
    assert unit not in set(selectors.control_data(ann, recipe=film).rows["unit"])
    step = film.versions.order_by("number").first().steps.order_by("order").first()
    before = selectors._stamp()
    step.name = f"{step.name} (renamed)"
    step.save()  # a column's label: a new stamp too
    assert selectors._stamp() != before
