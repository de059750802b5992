"""What the Overview hands a user to take away: the scenario as it ran, and the run's report."""

from __future__ import annotations

from dashboard.state import LoadedRun
from scenarios import scenario_yaml
from twin.report import run_report
from twin.results import REPORT_FILE, safe_file_stem


def scenario_download(loaded: LoadedRun) -> tuple[str, bytes]:
    """The file name and YAML of the scenario of ``loaded`` as it ran (its hours, warm-up,
    replications and seed), which ``gatetwin run`` runs again with the same results."""
    scenario = loaded.scenario_as_run()
    if scenario is None:
        raise ValueError(f"{loaded.label}: the scenario of this run is not known")
    comment = (f"The scenario {scenario.name} as the run {loaded.label} ran it, with its hours, replications and "
               f"seed:\n'gatetwin run {safe_file_stem(scenario.name)}.yaml' runs it again with the same results.")
    return f"{safe_file_stem(scenario.name)}.yaml", scenario_yaml(scenario, comment).encode("utf-8")


def report_download(loaded: LoadedRun) -> tuple[str, bytes]:
    """The file name and Markdown of the report of ``loaded``: its folder's ``report.md`` when it
    has one, else the report made from the run (without its plots, which are files of a folder)."""
    if loaded.folder is not None and (loaded.folder / REPORT_FILE).is_file():
        data = (loaded.folder / REPORT_FILE).read_bytes()
    else:
        data = run_report(loaded.run).encode("utf-8")
    return f"{safe_file_stem(loaded.run.scenario_name)}-report.md", data

