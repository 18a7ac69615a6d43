"""Time every list, filter, search and detail page and API endpoint on the scale fixture (issue 15).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ledger_scale .venv/bin/python bench/pages.py \
        [--runs 5] [--users alice,lead,admin] [--only compare] [--cold | --elsewhere | --warmed] [--json out.json]

Load the fixture first (``bench/scale.py``). Each request goes through Django's test client
(middleware, templates, serializers: everything but the socket) signed in as each user: ``alice``
(one project), ``lead`` (five) and ``admin`` (superuser). One warm-up request, then ``--runs``
timed ones; it prints the median wall time with the spread, the query count and the slowest query
of one further request run with the queries captured (so capturing costs nothing in the times).
``--cold`` empties the cache (the home panel's control charts, the recipe and insights pages';
with ``LEDGER_CACHE_URL`` set, that whole Redis database) before every request, the timed ones included (clearing is not timed): what a page costs the
first time after something it reads changed. ``--elsewhere`` keeps the cache but moves the data stamp
the insights caches are keyed by before every request, as a file measured anywhere in the lab does
(the stamp is the newest metric, sample and run): what a page costs while the lab is busy with
other recipes — the family's rows are read again, what is computed from them is not if they came
out the same. ``--warmed`` (the pages the worker draws ahead: drivers, control, recipe detail, home)
empties the cache and then runs the pass the worker runs after a file lands (``insights.warming.warm``
over the view the warm-up request recorded; timed apart and printed as "pass"): what the page costs
after what it reads changed, once the worker has drawn it. It needs ``LEDGER_CACHE_URL`` (a Redis
database of its own: it is emptied), as warming does.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ledger_scale")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("MEDIA_ROOT", str(ROOT / "var" / "scale-media"))
os.environ.setdefault("LEDGER_HTTPS", "false")
os.environ.setdefault("LEDGER_THROTTLE_USER", "100000000/min")
os.environ.setdefault("LEDGER_LOG_FORMAT", "text")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import warnings  # noqa: E402

import django  # noqa: E402

warnings.filterwarnings("ignore", message="No directory at")  # whitenoise: no collectstatic needed here

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db import connection, reset_queries  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

from devices.models import Device  # noqa: E402
from measurements.models import DerivedMetric, MeasurementFile  # noqa: E402
from recipes.models import Recipe  # noqa: E402
from samples.models import ProcessRun, Sample  # noqa: E402


def fixtures() -> dict:
    """Objects of project p01 (visible to all three users): a measured device, a film, a run, a file."""
    metric = (DerivedMetric.objects.filter(superseded=False, name="eqe_max", aggregate="best",
                                           sample__project__code="p01").order_by("sample_id").first())
    if metric is None:
        sys.exit("no scale fixture in this database: run bench/scale.py first")
    device = metric.sample
    measured = list(DerivedMetric.objects.filter(superseded=False, name="eqe_max", aggregate="best",
                                                 sample__project__code="p01")
                    .order_by("-sample_id").values_list("sample__label", flat=True)[:50])
    film = Sample.objects.filter(project__code="p01", kind="film").order_by("-id").first()
    run = ProcessRun.objects.filter(project__code="p01").order_by("-id").first()
    mf = MeasurementFile.objects.filter(sample=device).order_by("-id").first()
    dev = Device.objects.get(sample=device)
    pixel = dev.pixels.order_by("name").first()
    metric_row = DerivedMetric.objects.filter(sample=device, superseded=False).first()
    recipe = Recipe.objects.order_by("pk").first()
    n_samples = Sample.objects.filter(project__code="p01").count()
    # A keyset cursor as deep as the deep offset below (the API's next_cursor format).
    deep = DerivedMetric.objects.order_by("name", "-created_at", "-id")[max(0, n_samples // 2) * 4]
    token = json.dumps({"o": ["name", "-created_at", "-id"], "v": [deep.name, deep.created_at.isoformat(), deep.pk]})
    cursor = base64.urlsafe_b64encode(token.encode()).decode().rstrip("=")
    return {"device": device.label, "film": film.label, "run": run.pk, "file": mf.pk, "pixel": pixel.label,
            "metric": metric_row.pk, "recipe": recipe.pk, "measured": measured,
            "deep_page": max(1, n_samples // 25 // 2), "deep_offset": max(0, n_samples // 2), "cursor": cursor}


def requests(f: dict) -> list[tuple[str, str]]:
    """(name, URL); the first-table rows of the issue first."""
    compare = lambda n: "/measurements/compare/?" + "&".join(f"samples={lab}" for lab in f["measured"][:n])  # noqa: E731
    return [
        ("Compare, empty form", "/measurements/compare/"),
        ("Compare, 5 devices", compare(5)),
        ("Compare, 24 devices", compare(24)),
        ("Compare, 50 devices", compare(50)),
        ("API metrics ?limit=10", "/api/v1/metrics/?limit=10"),
        ("API metrics name + value range", "/api/v1/metrics/?name=eqe_max&value_min=10&value_max=12&limit=10"),
        ("API metrics current", "/api/v1/metrics/?superseded=false&limit=10"),
        ("API metrics deep offset", f"/api/v1/metrics/?limit=10&offset={f['deep_offset'] * 4}"),
        ("API metrics deep, by cursor", f"/api/v1/metrics/?limit=10&cursor={f['cursor']}"),
        ("API measurements ?limit=10", "/api/v1/measurements/?limit=10"),
        ("measurement list", "/measurements/"),
        ("samples by metric range (HTML)", "/samples/?metric=eqe_max&metric_min=10&metric_max=12"),
        ("samples by metric range (API)", "/api/v1/samples/?metric=eqe_max&metric_min=10&metric_max=12&limit=10"),
        ("sample list page 1", "/samples/"),
        ("sample list deep page", f"/samples/?page={f['deep_page']}"),
        ("label search (exact label)", f"/search/?q={f['device'].lower()}"),
        ("free-text search", "/search/?q=ink+3+of"),
        ("sample list ?q=", "/samples/?q=film+2"),
        ("sample list ?kind=device", "/samples/?kind=device"),
        ("API samples ?limit=10", "/api/v1/samples/?limit=10"),
        ("API samples deep offset", f"/api/v1/samples/?limit=10&offset={f['deep_offset']}"),
        ("API samples ?q=", "/api/v1/samples/?q=film+2&limit=10"),
        ("sample detail (device)", f"/samples/{f['device']}/"),
        ("sample detail (film)", f"/samples/{f['film']}/"),
        ("API sample detail", f"/api/v1/samples/{f['device']}/"),
        ("API sample metrics", f"/api/v1/samples/{f['device']}/metrics/"),
        ("run list", "/samples/runs/"),
        ("run list ?has_deviation", "/samples/runs/?has_deviation=true"),
        ("run detail", f"/samples/runs/{f['run']}/"),
        ("API runs ?limit=10", "/api/v1/runs/?limit=10"),
        ("API run detail", f"/api/v1/runs/{f['run']}/"),
        ("device list", "/devices/"),
        ("device detail", f"/devices/{f['device']}/"),
        ("API devices ?limit=10", "/api/v1/devices/?limit=10"),
        ("API device detail", f"/api/v1/devices/{f['device']}/"),
        ("API pixels ?limit=10", "/api/v1/pixels/?limit=10"),
        ("API pixel detail", f"/api/v1/pixels/{f['pixel']}/"),
        ("measurement detail", f"/measurements/{f['file']}/"),
        ("API measurement detail", f"/api/v1/measurements/{f['file']}/"),
        ("API metric detail", f"/api/v1/metrics/{f['metric']}/"),
        ("measurement status poll", f"/measurements/status/?ids={f['file']}"),
        ("home", "/"),
        ("recipe list", "/recipes/"),
        ("recipe detail", f"/recipes/{f['recipe']}/"),
        ("chemical list", "/recipes/chemicals/"),
        ("API recipes", "/api/v1/recipes/?limit=10"),
        ("API chemicals", "/api/v1/chemicals/?limit=10"),
        ("API calibrations", "/api/v1/calibrations/?limit=10"),
        ("insights: control charts", "/insights/"),
        ("insights: drivers", "/insights/drivers/"),
        ("exchange home", "/exchange/"),
    ]


def stamp_mover():
    """--elsewhere: a function that, called before a request, moves the insights data stamp as a
    file measured anywhere in the lab would (every insights key built from the stamp is new)."""
    from insights import selectors

    real, moves = selectors._stamp, 0
    selectors._stamp = lambda: f"{real()}:elsewhere{moves}"

    def move() -> None:
        nonlocal moves
        moves += 1

    return move


WARMED = {"insights: drivers", "insights: control charts", "recipe detail", "home"}  # the pages the pass draws


def warmed_page(passes: list[float]):
    """--warmed: a function that, called before a request, empties the cache but for the views
    recorded (the warm-up request's own), then runs the worker's pass (``insights.warming.warm``),
    timed apart."""
    from insights import warming

    cache.clear()  # this request's view only (its warm-up request records it)

    def draw() -> None:
        views = cache.get(warming.VIEWS_KEY)
        cache.clear()
        if views:
            cache.set(warming.VIEWS_KEY, views, warming.VIEW_TTL_S)
        t0 = time.perf_counter()
        warming.warm()
        if views:  # not before the warm-up request (nothing recorded yet)
            passes.append(time.perf_counter() - t0)

    return draw


def measure(client: Client, url: str, runs: int, explain: bool = False, fresh=lambda: None) -> dict:
    """``fresh``: called before every request (nothing, ``cache.clear`` for --cold, a stamp mover)."""
    fresh()
    response = client.get(url)  # warm-up (and the status we report)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    times = []
    for _ in range(runs):
        fresh()
        t0 = time.perf_counter()
        r = client.get(url)
        if r.streaming:
            b"".join(r.streaming_content)
        times.append(time.perf_counter() - t0)
    fresh()
    with CaptureQueriesContext(connection) as ctx:
        r = client.get(url)
        if r.streaming:
            b"".join(r.streaming_content)
    queries = list(ctx.captured_queries)
    slowest = max(queries, key=lambda q: float(q["time"]), default={"time": "0", "sql": ""})
    reset_queries()
    if explain and slowest["sql"]:
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {slowest['sql']}")
            print("\n".join(row[0] for row in cursor.fetchall()))
    return {"status": response.status_code, "bytes": len(body), "median_ms": statistics.median(times) * 1e3,
            "min_ms": min(times) * 1e3, "max_ms": max(times) * 1e3, "queries": len(queries),
            "slowest_ms": float(slowest["time"]) * 1e3, "slowest_sql": slowest["sql"][:300]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--users", default="alice,lead,admin")
    ap.add_argument("--only", default="", help="only requests whose name contains this")
    ap.add_argument("--json", default="", help="also write the results here")
    ap.add_argument("--sql", action="store_true", help="print the slowest query of each request")
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--cold", action="store_true", help="empty the cache before every request")
    mode.add_argument("--elsewhere", action="store_true",
                    help="keep the cache, but move the insights data stamp before every request")
    mode.add_argument("--warmed", action="store_true",
                      help="empty the cache, then draw the page as the worker would, before every request")
    ap.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the slowest query (PostgreSQL)")
    args = ap.parse_args()
    setup_test_environment()
    if args.warmed:
        from django.conf import settings

        from insights import warming

        settings.CELERY_TASK_ALWAYS_EAGER = False  # views are recorded as with a broker (nothing is sent)
        if not warming.enabled():
            sys.exit("--warmed: set LEDGER_CACHE_URL (a Redis database of its own: it is emptied) and "
                     "LEDGER_INSIGHTS_WARM_S > 0")
    f = fixtures()
    User = get_user_model()
    load = os.getloadavg()
    print(f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} cores; "
          f"{connection.vendor} {connection.settings_dict['NAME']}; {args.runs} runs per request"
          + ("; cache emptied before each" if args.cold else "")
          + ("; data stamp moved before each" if args.elsewhere else "")
          + ("; cache emptied and the page drawn by the worker's pass before each" if args.warmed else ""))
    fresh = cache.clear if args.cold else stamp_mover() if args.elsewhere else (lambda: None)
    results = []
    print(f"{'request':36} {'user':6} {'median ms':>10} {'(min–max)':>16} {'queries':>7} {'slowest q ms':>12}  status")
    for name, url in requests(f):
        if (args.only and args.only.lower() not in name.lower()) or (args.warmed and name not in WARMED):
            continue
        for username in args.users.split(","):
            client, passes = Client(), []
            client.force_login(User.objects.get(username=username))
            r = measure(client, url, args.runs, args.explain, warmed_page(passes) if args.warmed else fresh)
            results.append({"request": name, "url": url, "user": username, **r})
            print(f"{name:36} {username:6} {r['median_ms']:10.1f} {r['min_ms']:7.1f}–{r['max_ms']:<8.1f} "
                  f"{r['queries']:7d} {r['slowest_ms']:12.1f}  {r['status']}", flush=True)
            if passes:
                r["pass_median_ms"] = statistics.median(passes) * 1e3
                print(f"{'  pass (worker, before each)':36} {username:6} {r['pass_median_ms']:10.1f} "
                      f"{min(passes) * 1e3:7.1f}–{max(passes) * 1e3:<8.1f}", flush=True)
            if args.sql:
                print(f"    {r['slowest_sql']}")
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    if args.json:
        Path(args.json).write_text(json.dumps({"load": load, "results": results}, indent=1))


if __name__ == "__main__":
    main()
