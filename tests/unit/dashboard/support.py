"""Small runs of the twin saved as results folders, shared by the dashboard and browser tests.

The scenarios are the smart gate (every agency works round the clock, so a few hours from
midnight already clear trucks) at a busy 2,000 trucks a day, for 5 hours with 2 replications;
the second adds a 90-minute scanner outage, so the two make a comparison. A third, the
channelling scenario up to its morning peak, has drivers, traffic police and enterprises as
Mesa agents. The first two, copied into a folder beside the table and figure of their
recovery, make a folder as ``gatetwin recovery --out`` writes one.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from scenarios import load_scenario, with_overrides
from scenarios.schema import Scenario
from twin.compare import replication_ids, run_folder_names
from twin.plots import save_figure
from twin.recovery import RECOVERY_CSV, RECOVERY_PLOT, recovery_figure, recovery_report, undisrupted
from twin.results import load_results
from twin.run import RunOptions, run_scenario

APP = Path(__file__).resolve().parents[3] / "dashboard" / "app.py"


def busy_smart_gate(hours: float = 5.0, replications: int = 2) -> Scenario:
    """The smart gate at 2,000 trucks a day, cut to ``hours``."""
    return with_overrides(load_scenario("huu_nghi_smart_gate"), horizon_h=hours, replications=replications,
                          **{"demand.trucks_per_day": 2000})


def with_scanner_outage(scenario: Scenario, start: str = "02:30", hours: float = 1.5) -> Scenario:
    """``scenario`` with scanner-1 down from ``start`` for ``hours``, named for it."""
    return with_overrides(scenario, name=f"{scenario.name}_scanner_down",
                          **{"devices.outages": [{"device": "scanner-1", "start": start, "duration_h": hours}]})


def write_saved_runs(root: Path) -> dict[str, Path]:
    """Run both scenarios and save them under ``root``; their folders by name.

    The PNG plots of the results folder are left out: the dashboard draws its own figures
    and never reads them, and drawing them would double the time this takes.
    """
    base = busy_smart_gate()
    folders = {"baseline": root / "baseline", "outage": root / "outage"}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("twin.results.write_plots", lambda run, out_dir: [])
        run_scenario(base, RunOptions(out=folders["baseline"]))
        run_scenario(with_scanner_outage(base), RunOptions(out=folders["outage"]))
    return folders


#: Seed of ``write_other_seed_run``: not the smart gate's own (870).
OTHER_SEED = 871


def write_other_seed_run(folder: Path, hours: float = 1.0, replications: int = 3) -> Path:
    """The busy smart gate with seed ``OTHER_SEED``, ``replications`` replications of ``hours``,
    saved to ``folder`` without PNG plots: a run whose replications differ from the saved runs'
    in seed and number."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("twin.results.write_plots", lambda run, out_dir: [])
        run_scenario(busy_smart_gate(hours, replications), RunOptions(seed=OTHER_SEED, out=folder))
    return folder


def write_library_run(folder: Path, name: str = "huu_nghi_smart_gate", hours: float = 1.0, replications: int = 2,
                      seed: int = 5) -> Path:
    """Library scenario ``name`` cut to ``hours``, run with ``replications`` and ``seed`` other than
    the file's own, saved to ``folder`` without PNG plots."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("twin.results.write_plots", lambda run, out_dir: [])
        run_scenario(with_overrides(load_scenario(name), horizon_h=hours),
                     RunOptions(replications=replications, seed=seed, out=folder))
    return folder


def write_failed_run(folder: Path, failing_replication: int, hours: float = 1.0, cancelled: bool = False,
                     scenario: Scenario | None = None) -> Path:
    """The busy smart gate (or ``scenario``), 2 replications of ``hours``, whose replication
    ``failing_replication`` crashes half way (or, ``cancelled``, is cancelled there as the dashboard
    cancels a run): saved to ``folder`` with the replications before it and the error."""
    from dashboard.jobs import RunCancelled

    def crash(replication: int, fraction: float) -> None:
        if replication == failing_replication and fraction > 0.5:
            if cancelled:
                raise RunCancelled("cancelled from the dashboard")
            raise ZeroDivisionError("the scanner emulator divided by zero")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("twin.results.write_plots", lambda run, out_dir: [])
        with pytest.raises(RuntimeError, match=f"replication {failing_replication} failed"):
            run_scenario(with_overrides(scenario, horizon_h=hours) if scenario is not None else busy_smart_gate(hours, 2),
                         RunOptions(replications=2, out=folder), progress=crash)
    return folder


def write_agents_run(folder: Path, hours: float = 10.0) -> Path:
    """``channelling_on`` (its people are Mesa agents) for ``hours`` from midnight, 2 replications,
    saved to ``folder`` without PNG plots."""
    scenario = with_overrides(load_scenario("channelling_on"), horizon_h=hours, replications=2)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("twin.results.write_plots", lambda run, out_dir: [])
        run_scenario(scenario, RunOptions(out=folder))
    return folder


def write_warmup_run(folder: Path, hours: float = 2.0, warmup_h: float = 1.5) -> Path:
    """The busy smart gate for ``hours`` with a warm-up of ``warmup_h``, one replication, saved
    to ``folder`` without PNG plots."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("twin.results.write_plots", lambda run, out_dir: [])
        run_scenario(with_overrides(busy_smart_gate(hours, 1), warmup_h=warmup_h), RunOptions(out=folder))
    return folder


#: The library scenario with a scheduled disruption (scanner-1 down from 09:00 for 4 h), and the
#: hours its runs in the tests last: long enough to see the hour after the scanner is back.
OUTAGE_SCENARIO = "scanner_outage"
OUTAGE_HOURS = 14.0


def outage_scenario(hours: float = OUTAGE_HOURS) -> Scenario:
    """The library's scanner outage cut to ``hours``, as the dashboard rebuilds it from a run's hash."""
    return with_overrides(load_scenario(OUTAGE_SCENARIO), horizon_h=hours)


def write_outage_run(folder: Path, replications: int = 2) -> Path:
    """``outage_scenario``, ``replications`` replications with its own seed, saved to ``folder``
    without PNG plots: a library run with a disruption, whose scenario the dashboard rebuilds."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("twin.results.write_plots", lambda run, out_dir: [])
        run_scenario(outage_scenario(), RunOptions(replications=replications, out=folder))
    return folder


def write_recovery_folder(baseline: Path, outage: Path, root: Path) -> Path:
    """A folder laid out as ``gatetwin recovery --out`` writes one, from the saved runs of
    ``write_saved_runs``: the busy smart gate without its scanner outage (``baseline``) and with
    it (``outage``), same seed, each in its folder, and the recovery's table and figure beside them."""
    disrupted = with_scanner_outage(busy_smart_gate())
    for name, folder in zip(run_folder_names([undisrupted(disrupted).name, disrupted.name]), (baseline, outage),
                            strict=True):
        shutil.copytree(folder, root / name)
    without, with_outage = load_results(baseline), load_results(outage)
    report = recovery_report(disrupted, [rep.trucks for rep in with_outage.replications],
                             [rep.trucks for rep in without.replications], replication_ids(with_outage))
    report.table().to_csv(root / RECOVERY_CSV, index=False)
    save_figure(recovery_figure(report), root / RECOVERY_PLOT)
    return root
