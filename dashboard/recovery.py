"""The recovery of an opened run from its disruptions, measured from the dashboard.

A run whose scenario has scheduled disruptions (device outages, closures, AGV partner closures:
``twin.recovery.disruptions``) is compared, as ``gatetwin recovery`` compares it, with the same
scenario without them (``twin.recovery.undisrupted``) run with the same seed, replications and
hours: the same trucks arrive at both gates (common random numbers). ``plan_recovery`` says
whether a run can be measured and gives the run without the disruptions to ask the dashboard's
``JobBoard`` for; once that run is done, ``write_recovery`` writes both runs, ``recovery.csv``
and ``recovery.png`` into a folder laid out as ``gatetwin recovery --out`` writes one, under the
dashboard's runs folder and named after the disrupted run (``recovery_folder``), so the recovery
shows again whenever the run is opened, without running anything.

Nothing here draws on the page: ``dashboard.recovery_panel`` does.
"""

from __future__ import annotations

import io
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from dashboard.jobs import JobKey, RunRequest
from scenarios import scenario_hash
from scenarios.schema import Scenario
from twin.command_reports import run_entry, write_recovery_report
from twin.compare import replication_ids, run_folder_names, unfinished
from twin.plots import DPI
from twin.recovery import (
    HOUR,
    RECOVERY_CSV,
    RECOVERY_PLOT,
    Disruption,
    RecoveryReport,
    disruptions,
    recovery_figure,
    recovery_report,
    undisrupted,
)
from twin.results import SCENARIO_FILE, SUMMARY_FILE, RunResult, safe_file_stem, write_results

#: The start of the name of a folder the dashboard writes a recovery into.
RECOVERY_FOLDER_PREFIX = "recovery-"


@dataclass(frozen=True)
class RecoveryPlan:
    """Whether a run's recovery from its disruptions can be measured, and how.

    ``disruptions``: the scenario's, earliest first (none when the scenario has none or is not
    known). ``request``: the same scenario without them, with the run's seed, replications and
    hours, when the recovery can be measured. ``problem``: why it cannot, in a sentence ("" when
    it can, or when there is nothing to recover from).
    """

    disruptions: tuple[Disruption, ...]
    request: RunRequest | None
    problem: str

    @property
    def nothing_to_recover(self) -> bool:
        """Whether the run's scenario is known and has no disruption."""
        return not self.disruptions and not self.problem


def _manifest_int(run: RunResult, name: str) -> int | None:
    value = run.manifest.get(name) if isinstance(run.manifest, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _hours(value: float) -> str:
    return f"{value:g}"


def plan_recovery(run: RunResult, scenario: Scenario | None, horizon_h: float) -> RecoveryPlan:
    """Whether ``run`` (of ``scenario``, when known; ``horizon_h`` simulated hours) can be
    compared with the same scenario without its disruptions, and the run that takes."""
    seed = _manifest_int(run, "seed")
    wanted = _manifest_int(run, "replications")
    if scenario is None or scenario_hash(scenario) != run.scenario_hash:
        command = f"'gatetwin recovery FILE --seed {seed if seed is not None else 'SEED'} --reps " \
                  f"{wanted if wanted is not None else 'N'} --hours {_hours(horizon_h)}'"
        return RecoveryPlan((), None, (
            f"This run's recovery from any disruptions cannot be measured here: the scenario of {run.scenario_name} cannot be "
            f"rebuilt, for its folder has no {SCENARIO_FILE} that gives it back (an older version wrote the folder, or "
            f"the file was changed since) and no library scenario (with these hours or its own) has this run's "
            f"scenario hash ({run.scenario_hash[:12]}). {command} measures it from the scenario file the run was made "
            "from."))
    found = tuple(disruptions(scenario))
    if not found:
        return RecoveryPlan((), None, "")
    horizon_s = float(scenario.run.horizon_h) * HOUR
    end_s = max(d.end_s for d in found)  # each starts before the run ends (the scenario checks it)
    if end_s > horizon_s:
        return RecoveryPlan(found, None, (
            f"This run's recovery from its disruptions cannot be measured: the run ends (hour {_hours(horizon_s / HOUR)}) "
            f"before they do (hour {_hours(end_s / HOUR)}), so it says nothing of the time after them. Run it for "
            "longer."))
    left = unfinished(run)
    if left or not run.replications:
        return RecoveryPlan(found, None, (
            f"This run's recovery from its disruptions cannot be measured: {left or 'no replication finished'}. The same gate "
            "without them is compared with it replication by replication, so every replication must have finished; "
            "run it again to the end."))
    if seed is None or seed < 0:
        return RecoveryPlan(found, None, (
            "This run's recovery from its disruptions cannot be measured: its manifest does not say which seed it ran with, "
            "so the same trucks cannot be run again."))
    return RecoveryPlan(found, RunRequest(undisrupted(scenario), replications=len(run.replications), seed=seed), "")


def recovery_folder(root: Path, run: RunResult, horizon_h: float) -> Path:
    """Where the dashboard writes the recovery of ``run`` (``horizon_h`` simulated hours) from
    its disruptions: a folder under ``root`` named after the run's scenario, its hash, seed,
    replications and hours, so the same run finds it again."""
    key = JobKey(run.scenario_hash, _manifest_int(run, "seed") or 0, len(run.replications), float(horizon_h))
    return Path(root) / f"{RECOVERY_FOLDER_PREFIX}{key.folder_name(safe_file_stem(run.scenario_name))}"


def measure(scenario: Scenario, disrupted: RunResult, baseline: RunResult) -> RecoveryReport:
    """The recovery of ``disrupted`` (a run of ``scenario``) against ``baseline`` (the same
    scenario without its disruptions), replication by replication; ``ValueError`` when their
    replications are not the same ones."""
    ids = replication_ids(disrupted)
    if replication_ids(baseline) != ids:
        raise ValueError(f"the run without the disruptions has replications {replication_ids(baseline)}, the run with "
                         f"them {ids}: they must be the same")
    return recovery_report(scenario, [rep.trucks for rep in disrupted.replications],
                           [rep.trucks for rep in baseline.replications], ids)


def figure_png(report: RecoveryReport) -> bytes:
    """``recovery.png`` of ``report``, as ``gatetwin recovery --out`` writes it, as bytes."""
    buffer = io.BytesIO()
    recovery_figure(report).savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def _copy_run(run: RunResult, source: Path | None, folder: Path) -> None:
    """The results folder of ``run`` copied into ``folder`` (its files), or written anew when it
    has no folder to copy."""
    if source is not None and (source / SUMMARY_FILE).is_file():
        folder.mkdir(parents=True)
        for path in sorted(source.iterdir()):
            if path.is_file():
                shutil.copy2(path, folder / path.name)
    else:
        write_results(run, folder)


def write_recovery(folder: Path, report: RecoveryReport, png: bytes, disrupted: tuple[RunResult, Path | None],
                   baseline: tuple[RunResult, Path | None]) -> Path:
    """Write the recovery into ``folder`` as ``gatetwin recovery --out`` does: the run without the
    disruptions in ``1-<name>-undisrupted``, the run with them in ``2-<name>`` (each copied from
    its results folder, when it has one), ``recovery.csv``, ``recovery.png`` and ``recovery.md``. Written beside
    it first and moved into place whole, so a folder there is complete; a folder already there
    is kept as it is. ``OSError`` when it cannot be written."""
    folder = Path(folder)
    if (folder / RECOVERY_CSV).is_file():
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    draft = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        names = run_folder_names([baseline[0].scenario_name, disrupted[0].scenario_name])
        for (run, source), name in zip((baseline, disrupted), names, strict=True):
            _copy_run(run, source, draft / name)
        report.table().to_csv(draft / RECOVERY_CSV, index=False)
        (draft / RECOVERY_PLOT).write_bytes(png)
        entries = [run_entry(label, run, name) for (run, _), label, name
                   in zip((baseline, disrupted), ("without its disruptions", "as given"), names, strict=True)]
        write_recovery_report(disrupted[0].scenario_name, report.disruptions, entries, report, draft)
        try:
            draft.rename(folder)
        except OSError:
            if not (folder / RECOVERY_CSV).is_file():  # not written meanwhile by another session
                raise
    finally:
        shutil.rmtree(draft, ignore_errors=True)
    return folder


def is_measured(folder: Path) -> bool:
    """Whether ``folder`` holds a recovery the dashboard (or ``gatetwin recovery --out``) wrote."""
    return (Path(folder) / RECOVERY_CSV).is_file()


def table_of(report: RecoveryReport) -> pd.DataFrame:
    """The recovery table of ``report`` as ``recovery.csv`` reads back (every figure a float)."""
    table = report.table()
    return table.astype({name: float for name in table.columns})
