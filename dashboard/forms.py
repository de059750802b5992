"""What the forms that start runs share: the box of changes to a scenario, and the run settings
the forms give in fields of their own, which a change may not set as well.

A form gives the hours, replications and seed of every run it starts; a change setting one of
them too (``run.seed=7``, ``seed=7``, a whole ``run={...}``) would be overridden by the field
while the run was named after the change, so two runs of one name would differ. Such a change is
refused, naming the field to use, as ``gatetwin run`` refuses ``--set run.seed=..`` with
``--seed``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from scenarios import run_settings_in

#: The run settings a run form gives in its own fields: what each is, for messages.
FORM_SETTINGS: dict[str, str] = {"horizon_h": "hours", "replications": "replications", "seed": "seed"}


def change_lines(text: str) -> list[str]:
    """The KEY=VALUE lines of a changes box: blank lines and lines starting with '#' left out."""
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]


def field_clashes(pairs: Sequence[str], fields: Mapping[str, str], where: str) -> list[str]:
    """One message per change in ``pairs`` that sets a run setting the form gives in a field:
    ``fields`` maps each such setting (``FORM_SETTINGS``'s keys) to the field's label.

    Keys are read as ``gatetwin run --set`` reads them (``run_settings_in``), so ``run.seed``,
    ``run__seed`` and the bare ``seed`` are one setting. A malformed pair raises
    ``ScenarioError`` (file ``where``), as applying the changes would.
    """
    return [f"{where}: {key}: the '{fields[setting]}' field gives the {FORM_SETTINGS.get(setting, setting)} "
            "of the run; set it there, not in the changes"
            for key, setting in run_settings_in(pairs, where) if setting in fields]
