"""The demo campaign analysed without a database: every pixel's files through the real parsers
and analyses (measurements.analysis), one row per pixel with the knobs as the lineage would carry
them. What the Django selector builds from the database, minus the database."""

from __future__ import annotations

import pandas as pd

from insights.science.campaign import Campaign
from measurements.analysis.base import AnalysisError
from measurements.analysis.registry import run
from measurements.parsers import ParseError

DRIP, DRIP_S, ANNEAL, PEAI = "film · 4.volume [µL]", "film · 4.time [s]", "film · 5.temperature [°C]", "precursor · 1.peai [mg]"
VERSION, LOT, DATE = "film · version", "precursor · lot PEAI", "film · run date"
FILM_RUN, PRECURSOR_RUN = "film · run", "precursor · run"
# Each device has its own film run; a precursor batch serves two or three devices.
CLUSTERS = {DRIP: FILM_RUN, DRIP_S: FILM_RUN, ANNEAL: FILM_RUN, VERSION: FILM_RUN, PEAI: PRECURSOR_RUN, LOT: PRECURSOR_RUN}
KNOB_COLUMNS = {"drip_ul": DRIP, "drip_s": DRIP_S, "anneal_c": ANNEAL, "pea_pb": PEAI}


def analysed_rows(campaign: Campaign) -> pd.DataFrame:
    rows = []
    for dev in campaign.devices:
        pre = campaign.precursors[dev.precursor]
        lifetime = run("lifetime", {"files": [("life.csv", dev.lifetime)]}, {}).metrics
        for px in dev.pixels:
            row = {"device": f"DEV-{dev.index + 1:02d}", "pixel": px.name, DRIP: dev.knobs.drip_ul, DRIP_S: dev.knobs.drip_s,
                   ANNEAL: dev.knobs.anneal_c, PEAI: pre.masses_mg["peai"], VERSION: f"v{dev.film_version}",
                   LOT: pre.peai_lot, DATE: dev.day, "week": dev.week, FILM_RUN: f"film-{dev.index}",
                   PRECURSOR_RUN: f"precursor-{pre.index}"}
            try:
                metrics = run("jlv", {"jlv": [("jlv.csv", px.jlv)], "el": [("el.txt", px.el)]}, {"pixel_area_cm2": 0.09}).metrics
                row.update({name: m.value for name, m in metrics.items()})
            except (AnalysisError, ParseError) as exc:
                row["failure"] = str(exc)
            if px.name == dev.lifetime_pixel:
                row.update({"t50": lifetime["t50"].value, "initial_luminance": lifetime["initial_luminance"].value})
            rows.append(row)
    return pd.DataFrame(rows)
