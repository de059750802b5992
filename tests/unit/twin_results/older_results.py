"""A results folder as gatetwin wrote it before the time at the gate counted every truck that
reached the gate (and before folders had a format version): made from a current folder by
taking out what came later."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd

from twin.results import SUMMARY_FILE, TRUCKS_CSV, TRUCKS_FILE

#: What that change added: truck columns, KPIs (each replication's and the summary's).
LATER_TRUCK_COLUMNS = ("time_at_gate_so_far", "refused_at")
LATER_KPIS = tuple(f"time_at_gate_departed_{stat}" for stat in ("mean", "p50", "p90", "p95"))


def write_older_folder(current: Path, older: Path) -> Path:
    """Copy the results folder ``current`` to ``older`` as the older version would have written it."""
    shutil.copytree(current, older)
    trucks = pd.read_parquet(older / TRUCKS_FILE).drop(columns=list(LATER_TRUCK_COLUMNS))
    trucks.to_parquet(older / TRUCKS_FILE, index=False)
    trucks.to_csv(older / TRUCKS_CSV, index=False, lineterminator="\n")
    document = json.loads((older / SUMMARY_FILE).read_text(encoding="utf-8"))
    document.pop("format_version", None)
    for kpi in LATER_KPIS:
        document["summary"]["kpis"].pop(kpi, None)
    document["summary"]["pooled"].pop("time_at_gate_departed_min", None)
    for entry in document["replications"]:
        entry.pop("measured_from_s", None)
        for kpi in LATER_KPIS:
            entry["kpis"].pop(kpi, None)
    (older / SUMMARY_FILE).write_text(json.dumps(document, sort_keys=True, indent=2) + "\n", encoding="utf-8")
    return older
