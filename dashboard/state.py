"""What one dashboard session has open: the runs it loaded, the one shown, the runs it waits for.

Every page reads the run to show with ``current_run()``. Runs come from three places: a
scenario run in the background (``dashboard.jobs``), a results folder written by
``gatetwin run --out`` (read through ``read_results``, cached by folder and file stamp), and
the folders named in the ``GATETWIN_RESULTS`` environment variable, opened when a session
starts (``gatetwin dashboard DIR ...`` sets it).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from dashboard.jobs import JobBoard, JobKey, JobStatus, RunJob, RunRequest
from dashboard.recovery import figure_png, measure, recovery_folder, table_of, write_recovery
from dashboard.sizing import SIZING_GROUP
from scenarios import ScenarioError, library_names, load_scenario, scenario_hash, with_overrides
from scenarios.schema import Scenario
from twin.cli import DASHBOARD_RESULTS_ENV, DASHBOARD_RUNS_DIR, DASHBOARD_RUNS_ENV
from twin.compare import comparison_run_folders
from twin.recovery import RECOVERY_CSV, undisrupted
from twin.results import SUMMARY_FILE, ResultsFileError, RunResult, load_results

#: Results folders to open when a session starts (``os.pathsep`` between them), where runs
#: started from the dashboard write their results, and that folder's default: set by
#: ``gatetwin dashboard``, which owns these names (twin/ may not import the dashboard).
RESULTS_ENV = DASHBOARD_RESULTS_ENV
RUNS_DIR_ENV = DASHBOARD_RUNS_ENV
DEFAULT_RUNS_DIR = DASHBOARD_RUNS_DIR

_RUNS = "gatetwin.runs"
_SHOWN = "gatetwin.shown"
_PENDING = "gatetwin.pending"
_MESSAGES = "gatetwin.messages"
_PRELOADED = "gatetwin.preloaded"
_START_PROBLEMS = "gatetwin.start_problems"
_COMPARED = "gatetwin.compare_opened"
_CHOICES = "gatetwin.choices"
_RECOVERIES = "gatetwin.recoveries"
_MEASURED = "gatetwin.measured"
#: The group of the runs without their disruptions that measure a recovery (``ask_recovery``).
RECOVERY_GROUP = "recovery"
#: Key of the sidebar's "results shown" selector.
SHOWN_WIDGET = "gatetwin.shown_widget"
#: Key of the compare page's choice of the runs compared (the first is the baseline).
COMPARE_SELECTION = "compare.runs"


@dataclass(frozen=True)
class LoadedRun:
    """A run open in this session: its results, where they came from, and its scenario if known."""

    label: str
    run: RunResult
    source: str
    scenario: Scenario | None
    #: The results folder the run was read from or written to, when it has one.
    folder: Path | None = None

    @property
    def horizon_h(self) -> float:
        """Simulated hours (from the manifest; the stations' window as a fallback)."""
        extra = self.run.manifest.get("extra", {}) if isinstance(self.run.manifest, dict) else {}
        if "horizon_h" in extra:
            return float(extra["horizon_h"])
        ends = [s.end for rep in self.run.replications for s in rep.stations.values()]
        return max(ends, default=0.0) / 3600.0

    @property
    def warmup_h(self) -> float:
        """Hours of warm-up at the start of the run, which its KPIs leave out (from the manifest;
        the scenario's own when the manifest does not say; 0 when neither is known)."""
        extra = self.run.manifest.get("extra", {}) if isinstance(self.run.manifest, dict) else {}
        if isinstance(extra, dict) and extra.get("warmup_h") is not None:
            return float(extra["warmup_h"])
        return float(self.scenario.run.warmup_h) if self.scenario is not None else 0.0

    def scenario_as_run(self) -> Scenario | None:
        """The scenario with this run's own hours, warm-up, replications and seed, from its
        manifest (the scenario file's own may differ: the run was asked for others); None when
        the scenario is not known."""
        if self.scenario is None:
            return None
        manifest = self.run.manifest if isinstance(self.run.manifest, dict) else {}
        extra = manifest.get("extra", {}) if isinstance(manifest.get("extra"), dict) else {}
        changes = {key: value for key, value in (("replications", manifest.get("replications")),
                                                 ("seed", manifest.get("seed")),
                                                 ("horizon_h", extra.get("horizon_h")),
                                                 ("warmup_h", extra.get("warmup_h"))) if value is not None}
        try:
            return with_overrides(self.scenario, **changes) if changes else self.scenario
        except ScenarioError:
            return self.scenario


@dataclass(frozen=True)
class Pending:
    """A run this session asked for and has not received yet."""

    key: JobKey
    group: str


def runs_dir() -> Path:
    """Where the dashboard writes the results of the runs it starts."""
    return Path(os.environ.get(RUNS_DIR_ENV) or DEFAULT_RUNS_DIR)


@st.cache_resource(show_spinner=False)
def _board(folder: str) -> JobBoard:
    return JobBoard(Path(folder))


def job_board() -> JobBoard:
    """The process-wide board of background runs (one per results folder)."""
    return _board(str(runs_dir().resolve()))


def loaded_runs() -> dict[str, LoadedRun]:
    """This session's open runs, by label, in the order they were opened."""
    runs: dict[str, LoadedRun] = st.session_state.setdefault(_RUNS, {})
    return runs


def run_label(run: RunResult, horizon_h: float) -> str:
    """A short name for a run: scenario, seed, replications and hours."""
    seed = run.manifest.get("seed", "?") if isinstance(run.manifest, dict) else "?"
    return f"{run.scenario_name} · seed {seed} · {len(run.replications)} rep · {horizon_h:g} h"


def add_run(run: RunResult, source: str, scenario: Scenario | None = None, show: bool = True,
            folder: Path | None = None) -> LoadedRun:
    """Open a run in this session (a run from the same source replaces the earlier one).

    ``show``: make it the run the pages show (applied on the next script run); ``folder``: the
    results folder it was read from or written to.
    """
    runs = loaded_runs()
    for label, loaded in list(runs.items()):
        if loaded.source == source:
            del runs[label]
    scenario = scenario if scenario is not None else find_scenario(run)
    draft = LoadedRun(label="", run=run, source=source, scenario=scenario)
    base = run_label(run, draft.horizon_h)
    label, n = base, 1
    while label in runs:
        n += 1
        label = f"{base} ({n})"
    loaded = LoadedRun(label=label, run=run, source=source, scenario=scenario, folder=folder)
    runs[label] = loaded
    if show or _SHOWN not in st.session_state:
        st.session_state[_SHOWN] = label
    # Other results were picked: what went wrong with those named at start no longer matters.
    dismiss_start_problems()
    return loaded


def open_again(loaded: LoadedRun, place: int) -> LoadedRun:
    """``loaded`` opened once more, under a label of its own, as run ``place`` (1 for the first)
    of a comparison that names it twice: the same scenario with the same settings, asked for
    twice, runs once and gives the same results, so it is compared with itself, as
    ``gatetwin compare`` compares ``1:NAME`` with ``2:NAME``. Opened once per source and place."""
    source = f"{loaded.source} (again, as run {place} of a comparison)"
    found = next((other for other in loaded_runs().values() if other.source == source), None)
    return found if found is not None else add_run(loaded.run, source, loaded.scenario, show=False)


def current_run() -> LoadedRun | None:
    """The run the pages show, or None when nothing is open."""
    runs = loaded_runs()
    label = st.session_state.get(_SHOWN)
    if label in runs:
        return runs[label]
    return next(iter(runs.values()), None)


def run_picker() -> None:
    """The sidebar's choice of the run shown on every page.

    The choice lives in a key of its own: Streamlit gives a widget a new identity on each page
    and drops the state of the last page's one, so the selector is set from that key on every
    script run, and a change made in it is copied back by its callback.
    """
    runs = loaded_runs()
    if not runs:
        st.sidebar.caption("No results open yet.")
        return
    if st.session_state.get(_SHOWN) not in runs:
        st.session_state[_SHOWN] = next(iter(runs))
    st.session_state[SHOWN_WIDGET] = st.session_state[_SHOWN]
    shown = st.sidebar.selectbox("Results shown", list(runs), key=SHOWN_WIDGET, on_change=_remember_shown,
                                 help="Every page shows this run; open more on 'Run or open'.")
    source = runs[shown].source
    st.sidebar.caption(f"from {short_source(source)}", help=f"from {source}")


def short_source(source: str, longest: int = 32) -> str:
    """``source`` with each long folder path cut to its last two parts (``…/saved/baseline``);
    a path inside the working folder is shown relative to it."""
    words = []
    for word in source.split(" "):
        if word.startswith("/"):
            path = Path(word)
            if Path.cwd() != Path(Path.cwd().anchor) and path.is_relative_to(Path.cwd()):
                word = str(path.relative_to(Path.cwd()))
            if len(word) > longest and len(path.parts) > 3:
                word = "…/" + "/".join(path.parts[-2:])
        words.append(word)
    return " ".join(words)


def _remember_shown() -> None:
    st.session_state[_SHOWN] = st.session_state[SHOWN_WIDGET]
    dismiss_start_problems()


# --- choices made in a page's widgets ----------------------------------------------------------

def remembered(key: str, default: Any = None) -> Any:
    """The value the user last gave the widget ``key`` (``default`` when never given)."""
    return st.session_state.get(_CHOICES, {}).get(key, default)


def remember(key: str, value: Any) -> None:
    """Record the value of the widget ``key``, for ``restore_widget`` to give it back."""
    st.session_state.setdefault(_CHOICES, {})[key] = value


def restore_widget(key: str, default: Any) -> None:
    """Before the widget ``key`` is drawn: give it the value the user last chose (``default`` the
    first time), when Streamlit has dropped it.

    Streamlit drops the state of every widget that a script run does not draw, so a choice made
    on one page would be forgotten on a visit to another, as ``run_picker`` explains. A page
    calls this before drawing the widget (with no default of the widget's own, which would
    clash with the value set here) and ``remember`` with the value the widget returns.
    """
    if key not in st.session_state:
        st.session_state[key] = remembered(key, default)


# --- reading saved results ---------------------------------------------------------------------

def _stamp(folder: Path) -> str:
    stat = (folder / SUMMARY_FILE).stat()
    return f"{stat.st_mtime_ns}-{stat.st_size}"


@st.cache_data(show_spinner="Reading results ...", max_entries=32)
def _read(folder: str, stamp: str) -> RunResult:
    return load_results(Path(folder))


def read_results(folder: Path) -> RunResult:
    """A results folder written by ``gatetwin run --out`` (cached until its summary changes).

    Raises ``ValueError`` with one line naming the folder and the problem.
    """
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise ValueError(f"{folder}: no such folder")
    if not (folder / SUMMARY_FILE).is_file():
        inside = sorted(summary.parent.name for summary in folder.glob(f"*/{SUMMARY_FILE}"))
        if inside:
            shown = ", ".join(inside[:5]) + (f" and {len(inside) - 5} more" if len(inside) > 5 else "")
            raise ValueError(f"{folder}: not a gatetwin results folder itself (no {SUMMARY_FILE}), but it holds "
                             f"{len(inside)}: {shown}; open one of them")
        raise ValueError(f"{folder}: not a gatetwin results folder (no {SUMMARY_FILE}); write one with 'gatetwin run --out'")
    try:
        return _read(str(folder.resolve()), _stamp(folder))
    except ResultsFileError as exc:
        raise ValueError(f"cannot open the results in {folder}: {exc}. Run the scenario again to write them anew "
                         "('gatetwin run --out').") from None
    except (OSError, KeyError, ValueError, TypeError) as exc:
        raise ValueError(f"{folder}: cannot read the results ({type(exc).__name__}: {exc})") from None


@st.cache_data(show_spinner=False, max_entries=256)
def _status(folder: str, stamp: str) -> str:
    document = json.loads((Path(folder) / SUMMARY_FILE).read_text(encoding="utf-8"))
    failed = document.get("failed")
    if not failed:
        return ""
    done = len(document.get("replications") or [])
    manifest = document.get("manifest") if isinstance(document.get("manifest"), dict) else {}
    wanted = manifest.get("replications")
    count = f"{done} of {wanted} replications" if isinstance(wanted, int) else f"{done} replication(s)"
    if "RunCancelled" in failed:
        return f"cancelled: {count}"
    return f"failed: {count}" if done else "failed: no replication finished"


def results_status(folder: Path) -> str:
    """Whether a results folder holds a complete run, in a few words: "" when it does; "cancelled:
    1 of 3 replications", "failed: no replication finished" and so on when it does not, or when
    its summary cannot be read."""
    try:
        return _status(str(Path(folder).resolve()), _stamp(Path(folder)))
    except (OSError, ValueError):
        return "cannot be read"


def open_folder(folder: Path, show: bool = True) -> LoadedRun:
    """Read a results folder and open it in this session; ``ValueError`` when it cannot be read."""
    run = read_results(folder)
    resolved = Path(folder).expanduser().resolve()
    return add_run(run, source=str(resolved), show=show, folder=resolved)


def open_folders(folder: Path, show: bool = True) -> list[LoadedRun]:
    """Open a results folder, or every run of a folder written by ``gatetwin compare --out`` or
    ``gatetwin recovery --out`` (the baseline first, and shown); ``ValueError`` naming the first
    that cannot be read. The two runs of a recovery folder become the runs compared
    (``compare_next``), for the compare page shows their recovery when it compares them."""
    folder = Path(folder).expanduser()
    runs = comparison_run_folders(folder)
    if not runs or (folder / SUMMARY_FILE).is_file():
        return [open_folder(folder, show=show)]
    opened = [open_folder(run, show=show and index == 0) for index, run in enumerate(runs)]
    if len(opened) == 2 and (folder / RECOVERY_CSV).is_file():
        compare_next([loaded.label for loaded in opened])
    return opened


def compare_next(labels: list[str]) -> None:
    """Make ``labels`` the runs the compare page compares when it is next drawn (the first is the
    baseline), whatever was chosen there before."""
    st.session_state.pop(COMPARE_SELECTION, None)
    remember(COMPARE_SELECTION, labels)


def preload_from_environment() -> None:
    """Open the folders named in ``GATETWIN_RESULTS``, once per session. Why any failed is kept
    (``start_problems``) for every page to show until the user dismisses it or picks other results."""
    if st.session_state.get(_PRELOADED):
        return
    st.session_state[_PRELOADED] = True
    problems = []
    for index, entry in enumerate(filter(None, os.environ.get(RESULTS_ENV, "").split(os.pathsep))):
        try:
            open_folders(Path(entry), show=index == 0)
        except ValueError as exc:
            problems.append(str(exc))
    st.session_state[_START_PROBLEMS] = problems


def start_problems() -> list[str]:
    """Why results folders named at start (``gatetwin dashboard FOLDER ...``) did not open, one
    line each naming the folder, until ``dismiss_start_problems``."""
    problems: list[str] = st.session_state.get(_START_PROBLEMS, [])
    return problems


def dismiss_start_problems() -> None:
    """Stop showing ``start_problems``: the user dismissed them, or picked other results."""
    st.session_state[_START_PROBLEMS] = []


def find_scenario(run: RunResult) -> Scenario | None:
    """The scenario a run was made from: the one it carries (the scenario it ran, or its folder's
    ``scenario.yaml``); for a folder written before folders kept it, the library scenario its
    hash names (with or without a changed horizon, as ``gatetwin run --hours`` makes); None
    otherwise."""
    if run.scenario is not None:
        return run.scenario
    if run.scenario_name not in library_names():
        return None
    extra = run.manifest.get("extra", {}) if isinstance(run.manifest, dict) else {}
    try:
        scenario = load_scenario(run.scenario_name)
        candidates = [scenario]
        if "horizon_h" in extra:
            candidates.append(with_overrides(scenario, horizon_h=float(extra["horizon_h"])))
    except ScenarioError:
        return None
    return next((c for c in candidates if scenario_hash(c) == run.scenario_hash), None)


# --- background runs ---------------------------------------------------------------------------

def request_runs(requests: list[RunRequest], group: str) -> None:
    """Queue runs on the board for this session; finished ones open when the session polls."""
    board = job_board()
    pending: list[Pending] = st.session_state.setdefault(_PENDING, [])
    for request in requests:
        job = board.submit(request)
        if all(p.key != job.key for p in pending):
            pending.append(Pending(job.key, group))


def pending_runs() -> list[Pending]:
    """Runs this session is waiting for."""
    pending: list[Pending] = st.session_state.setdefault(_PENDING, [])
    return pending


def _source_of(job: RunJob) -> str:
    """Where a run the dashboard ran comes from, as the pages name it."""
    return f"run in the dashboard, saved to {job.out_dir}" if job.out_dir is not None else "run in the dashboard"


def collect_finished() -> list[LoadedRun]:
    """Open this session's finished runs; post a message for each failed or cancelled one.

    Runs of the "compare" group are recorded by key with the label they opened under
    (``compare_opened``), for the compare page to show the comparison it started. The cells of a
    sizing (``SIZING_GROUP``) are not opened: the sizing page reads them off the board.
    """
    board = job_board()
    opened: list[LoadedRun] = []
    still: list[Pending] = []
    for item in pending_runs():
        job = board.get(item.key)
        if job is None:
            post_message("error", f"a run was dropped from the board before it finished ({item.key.scenario_hash[:10]})")
            continue
        if not job.status.finished:
            still.append(item)
            continue
        # Runs whose recovery waits for this one (asked for in any group: a run is pending once).
        asked = recoveries_asked().pop(item.key, [])
        if job.status is JobStatus.DONE and job.result is not None:
            for disrupted in asked:
                post_measured(disrupted, finish_recovery(disrupted, job))
            if job.problem:
                post_message("warning", f"{job.label}: finished, but {job.problem.splitlines()[0]}")
            if asked and item.group == RECOVERY_GROUP:
                continue  # opened beside the runs measured
            if item.group == SIZING_GROUP:
                continue  # a cell of a sizing: the sizing page follows it (dashboard.sizing)
            loaded = add_run(job.result, _source_of(job), job.request.scenario,
                             show=item.group not in ("compare", RECOVERY_GROUP), folder=job.out_dir)
            opened.append(loaded)
            if item.group == "compare":
                compare_opened()[item.key] = loaded.label
        elif job.status is JobStatus.CANCELLED:
            post_message("info", f"{job.label}: cancelled")
        elif asked:
            for disrupted in asked:
                post_message("error", f"The recovery of {disrupted.label} from its disruptions was not measured: the "
                                      f"run without them, {job.label}, failed: {job.error}. {disrupted.label} is "
                                      "still open.")
        else:
            post_message("error", f"{job.label}: failed: {job.error}")
    st.session_state[_PENDING] = still
    return opened


def compare_opened() -> dict[JobKey, str]:
    """The runs of the "compare" group that finished and opened in this session: label by key."""
    opened: dict[JobKey, str] = st.session_state.setdefault(_COMPARED, {})
    return opened


def post_message(kind: str, text: str) -> None:
    """A message to show once, at the top of the next page drawn ("error", "warning", "info")."""
    if kind not in ("error", "warning", "info", "success"):
        raise ValueError(f"post_message: kind must be error, warning, info or success (got {kind!r})")
    st.session_state.setdefault(_MESSAGES, []).append((kind, text))


def show_messages() -> None:
    """Show and clear the messages posted since the last page was drawn."""
    for kind, text in st.session_state.pop(_MESSAGES, []):
        getattr(st, kind)(text)


# --- the recovery of a run from its disruptions ------------------------------------------------

@dataclass(frozen=True)
class Measured:
    """A recovery measured in this session: where it is saved, or, when it could not be saved,
    its table and figure in memory and why (``problem``); or only why it could not be measured."""

    folder: Path
    saved: bool
    table: pd.DataFrame | None = None
    png: bytes | None = None
    problem: str = ""


def measured_folder(loaded: LoadedRun) -> Path:
    """Where the dashboard saves the recovery of ``loaded`` from its disruptions."""
    return recovery_folder(runs_dir(), loaded.run, loaded.horizon_h)


def recoveries_asked() -> dict[JobKey, list[LoadedRun]]:
    """The runs whose recovery this session waits to measure, by the key of the run without their
    disruptions (runs whose disruptions differ, of one scenario, share it)."""
    asked: dict[JobKey, list[LoadedRun]] = st.session_state.setdefault(_RECOVERIES, {})
    return asked


def recovery_asked(loaded: LoadedRun, key: JobKey) -> bool:
    """Whether this session waits for the run of ``key`` to measure the recovery of ``loaded``."""
    return any(other.source == loaded.source for other in recoveries_asked().get(key, []))


def ask_recovery(loaded: LoadedRun, request: RunRequest) -> None:
    """Queue the run without ``loaded``'s disruptions (``request``); its recovery is measured when
    it finishes (``collect_finished``). A run already asked for, by any session, is not run again."""
    if not recovery_asked(loaded, request.key):
        recoveries_asked().setdefault(request.key, []).append(loaded)
    request_runs([request], group=RECOVERY_GROUP)


def finish_recovery(disrupted: LoadedRun, job: RunJob) -> Measured:
    """The recovery of ``disrupted`` against ``job``'s run (the same scenario without its
    disruptions, done), once per session: saved to ``measured_folder`` (unless it is there
    already), and the run without the disruptions opened beside ``disrupted`` (not shown), the
    two the runs the compare page compares next."""
    cache: dict[Path, Measured] = st.session_state.setdefault(_MEASURED, {})
    folder = measured_folder(disrupted)
    if folder in cache:
        return cache[folder]
    if job.result is None or disrupted.scenario is None:
        measured = Measured(folder, False, problem="cannot be measured: the run without the disruptions has no results")
    else:
        try:
            report = measure(disrupted.scenario, disrupted.run, job.result)
            png = figure_png(report)
        except ValueError as exc:
            measured = Measured(folder, False, problem=f"cannot be measured: {exc}")
        else:
            try:
                write_recovery(folder, report, png, (disrupted.run, disrupted.folder), (job.result, job.out_dir))
                measured = Measured(folder, True)
            except OSError as exc:
                measured = Measured(folder, False, table_of(report), png,
                                    problem=f"could not be saved to {folder} ({type(exc).__name__}: {exc})")
    cache[folder] = measured
    if measured.saved:
        open_recovery_runs(disrupted, folder)
    elif measured.table is not None and job.result is not None:
        baseline = add_run(job.result, _source_of(job), job.request.scenario, show=False, folder=job.out_dir)
        compare_next([baseline.label, _still_open(disrupted).label])
    return measured


def _still_open(loaded: LoadedRun) -> LoadedRun:
    """``loaded`` as open in this session now (opened again, not shown, if it is not)."""
    found = next((other for other in loaded_runs().values() if other.source == loaded.source), None)
    if found is not None:
        return found
    return add_run(loaded.run, loaded.source, loaded.scenario, show=False, folder=loaded.folder)


def open_recovery_runs(disrupted: LoadedRun, folder: Path) -> tuple[LoadedRun, LoadedRun]:
    """Open the run without ``disrupted``'s disruptions from the recovery ``folder`` (not shown),
    beside ``disrupted``, and make the two the runs the compare page compares next, the run
    without the disruptions the baseline, as for a folder of ``gatetwin recovery --out``.
    ``ValueError`` when the folder's run cannot be read."""
    runs = comparison_run_folders(folder)
    if len(runs) != 2:
        raise ValueError(f"{folder}: holds {len(runs)} runs, not the two of a recovery")
    path = runs[0].resolve()
    baseline = next((other for other in loaded_runs().values() if other.source == str(path)), None)
    if baseline is None:
        scenario = undisrupted(disrupted.scenario) if disrupted.scenario is not None else None
        baseline = add_run(read_results(path), str(path), scenario, show=False, folder=path)
    shown = _still_open(disrupted)
    compare_next([baseline.label, shown.label])
    return baseline, shown


def post_measured(disrupted: LoadedRun, measured: Measured) -> None:
    """Say the recovery of ``disrupted`` was measured, and where it shows."""
    if measured.saved:
        post_message("success", f"Measured the recovery of {disrupted.label} from its disruptions, against the same "
                                f"gate without them (saved to {measured.folder}): it shows on 'Overview' with the run, "
                                "and on 'Compare layouts', where the two runs are compared.")
    elif measured.table is not None:
        post_message("warning", f"Measured the recovery of {disrupted.label} from its disruptions, but it "
                                f"{measured.problem}: it shows on 'Overview' in this session only.")
    else:
        post_message("error", f"The recovery of {disrupted.label} from its disruptions {measured.problem}.")
