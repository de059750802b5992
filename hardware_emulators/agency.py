"""An agency's desk: officers who work daily shifts and serve one task at a time each.

Officers are the slots of a ``simpy.PriorityResource``. When the last shift of a spell ends,
the desk's roster requests every slot ahead of all waiting tasks: a free officer goes off
duty at once, a busy one finishes the task in hand and then goes. At the next shift start the
roster gives the slots back and the waiting tasks are served in order. So nothing is started
off shift, and a task arriving off shift waits for the next shift.

Shifts are daily windows in hours, e.g. quarantine ``[(7, 19)]``, customs 24/7 ``[(0, 24)]``,
a night shift ``[(19, 7)]`` (wrapping past midnight), or adjacent windows for crews that hand
over (``[(6, 14), (14, 22)]``: the desk stays open at 14:00, a fresh crew takes over).

``off_duty`` spells (``(start_s, end_s)`` since the start of the run: a holiday, the gate closed
for Tet) override the shifts: nobody is on duty in them, and the roster goes off at their start
as at a shift's end (a busy officer finishes the task in hand). Duty resumes at the spell's end
if a shift is on then, else at the next shift start.

With ``fatigue_per_h`` set, a task's service time is multiplied by
``1 + fatigue_per_h * hours into the shift`` at the moment it starts (off by default).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import simpy

from gate.enums import Role
from hardware_emulators.base import (
    SECONDS_PER_DAY,
    ProcessGenerator,
    Sampler,
    SortedPriorityResource,
    draw_duration,
)

_DAY = SECONDS_PER_DAY
#: Priority of the roster's off-duty requests: ahead of every task (tasks use 0 or more).
_OFF_DUTY = -1


def _shift_spells(owner: str, shifts: Sequence[tuple[float, float]]) -> tuple[tuple[float, float], ...]:
    """Daily windows in hours -> spells in seconds (end may pass midnight), checked for overlap."""
    if not shifts:
        raise ValueError(f"{owner}: shifts must list at least one (start_h, end_h) window")
    spells = []
    for start_h, end_h in shifts:
        if not (math.isfinite(start_h) and math.isfinite(end_h)) or not (0 <= start_h < 24 and 0 < end_h <= 24):
            raise ValueError(f"{owner}: a shift needs 0 <= start_h < 24 and 0 < end_h <= 24 (got ({start_h}, {end_h}))")
        if start_h == end_h:
            raise ValueError(f"{owner}: a shift cannot start and end at the same hour (got ({start_h}, {end_h}))")
        start, end = start_h * 3600.0, end_h * 3600.0
        spells.append((start, end if end > start else end + _DAY))
    spells.sort()
    for i, (s1, e1) in enumerate(spells):
        for s2, e2 in spells[i + 1 :]:
            for shift in (-_DAY, 0.0, _DAY):
                if s1 < e2 + shift and s2 + shift < e1:
                    first = f"({s1 / 3600:g}, {e1 / 3600 % 24:g})"
                    second = f"({s2 / 3600:g}, {e2 / 3600 % 24:g})"
                    raise ValueError(f"{owner}: shifts overlap: {first} and {second}")
    return tuple(spells)


def _off_duty_spells(owner: str, spells: Sequence[tuple[float, float]]) -> tuple[tuple[float, float], ...]:
    """Off-duty spells in seconds since the start of the run, checked, sorted and merged."""
    merged: list[tuple[float, float]] = []
    for start, end in sorted((float(s), float(e)) for s, e in spells):
        if not (math.isfinite(start) and math.isfinite(end)) or not (0 <= start < end):
            raise ValueError(f"{owner}: an off-duty spell needs 0 <= start_s < end_s (got ({start:g}, {end:g}))")
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return tuple(merged)


class AgencyDesk:
    """The officers of one agency role at the gate, serving tasks on shift.

    Args:
        env: the simulation environment (``env.now`` 0 is midnight of day 0).
        role: the agency role the desk serves.
        officers: officers on duty during a shift.
        shifts: daily on-duty windows ``(start_h, end_h)``.
        service_s: time one officer takes for one task.
        fatigue_per_h: service-time growth per hour into a shift (0: no fatigue).
        off_duty: ``(start_s, end_s)`` spells in which nobody is on duty, whatever the shifts.
    """

    def __init__(
        self,
        env: simpy.Environment,
        role: Role,
        *,
        officers: int,
        shifts: Sequence[tuple[float, float]],
        service_s: Sampler,
        fatigue_per_h: float = 0.0,
        off_duty: Sequence[tuple[float, float]] = (),
    ) -> None:
        owner = f"desk {role.value}"
        if officers < 1:
            raise ValueError(f"{owner}: officers must be >= 1 (got {officers})")
        if not math.isfinite(fatigue_per_h) or fatigue_per_h < 0:
            raise ValueError(f"{owner}: fatigue_per_h must be finite and >= 0 (got {fatigue_per_h})")
        self.env = env
        self.role = role
        self.name = owner
        self.officers = officers
        self._spells = _shift_spells(owner, shifts)
        #: The last shift, as a spell of the run (start, end in seconds since its start), that
        #: ``_daily_shift_s`` found a stretch of time in: a task is mostly waited for and done
        #: within one shift, so the next call is mostly about it again.
        self._last_spell = (math.inf, -math.inf)
        self._off_duty = _off_duty_spells(owner, off_duty)
        self._service_s = service_s
        self.fatigue_per_h = float(fatigue_per_h)
        #: The officers: one slot each; the roster holds them off shift.
        self.desk: simpy.PriorityResource = SortedPriorityResource(env, capacity=officers)
        self._in_service: dict[int, float] = {}
        self._next_task = 0
        self._closed_busy_s = 0.0
        self._closed_overtime_s = 0.0
        #: Tasks given to the desk so far (each ``serve``/``work``), whether or not an officer took them up yet.
        self.tasks_assigned = 0
        #: Tasks started and finished so far.
        self.tasks_started = 0
        self.tasks_done = 0
        #: Total time tasks waited for an officer, and the part of it outside the shifts.
        self.wait_s = 0.0
        self.wait_off_shift_s = 0.0
        env.process(self._roster())

    # --- shifts -----------------------------------------------------------------------------

    def _daily_spell_at(self, t: float) -> tuple[float, float] | None:
        day = math.floor(t / _DAY)
        for k in (day - 1, day):
            for start, end in self._spells:
                if start + k * _DAY <= t < end + k * _DAY:
                    return start + k * _DAY, end + k * _DAY
        return None

    def _off_duty_at(self, t: float) -> tuple[float, float] | None:
        for start, end in self._off_duty:
            if start <= t < end:
                return start, end
        return None

    def _spell_at(self, t: float) -> tuple[float, float] | None:
        """The stretch of duty ``t`` falls in: its shift, cut short by the off-duty spells."""
        spell = self._daily_spell_at(t)
        if spell is None or not self._off_duty:
            return spell
        start, end = spell
        for off_start, off_end in self._off_duty:
            if off_start <= t < off_end:
                return None
            if off_end <= t:
                start = max(start, off_end)
            elif off_start < end:
                end = off_start
        return start, end

    def on_shift(self, t: float) -> bool:
        """Whether officers are on duty at time ``t``."""
        return self._spell_at(t) is not None

    def _next_daily_start(self, t: float) -> float:
        day = math.floor(t / _DAY)
        return min(start + k * _DAY for k in (day, day + 1) for start, _ in self._spells if start + k * _DAY > t)

    def next_shift_start(self, t: float) -> float:
        """The first time after ``t`` at which officers come on duty: a shift start outside the
        off-duty spells, or the end of an off-duty spell that falls within a shift."""
        at = t
        while True:
            off = self._off_duty_at(at)
            if off is not None:
                at = off[1]
                if self._daily_spell_at(at) is not None:
                    return at
                if self._off_duty_at(at) is not None:
                    continue
            at = self._next_daily_start(at)
            if self._off_duty_at(at) is None:
                return at

    def hours_into_shift(self, t: float) -> float:
        """Hours since the current shift (or the duty after an off-duty spell) began (0 off shift)."""
        spell = self._spell_at(t)
        return 0.0 if spell is None else (t - spell[0]) / 3600.0

    def on_duty_s(self, until: float | None = None) -> float:
        """Officer-seconds on shift in ``[0, until]`` (default: now); overtime is not in it."""
        horizon = self.env.now if until is None else until
        return self._shift_s(0.0, horizon) * self.officers

    def _shift_s(self, begin: float, end: float) -> float:
        """Seconds of ``[begin, end]`` that fall within a shift and outside the off-duty spells."""
        total = self._daily_shift_s(begin, end)
        for off_start, off_end in self._off_duty:
            s, e = max(off_start, begin), min(off_end, end)
            if e > s:
                total -= self._daily_shift_s(s, e)
        return total

    def _daily_shift_s(self, begin: float, end: float) -> float:
        """Seconds of ``[begin, end]`` that fall within a shift (off-duty spells not counted out)."""
        first, last = self._last_spell
        if first <= begin and end <= last:
            # Within one shift: the other shifts of the run do not overlap it (``_shift_spells``),
            # so the sum below would be this one stretch and nothing else.
            return end - begin if end > begin else 0.0
        total = 0.0
        for k in range(math.floor(begin / _DAY) - 1, math.floor(end / _DAY) + 1):
            for start, stop in self._spells:
                s, e = max(start + k * _DAY, begin), min(stop + k * _DAY, end)
                if e > s:
                    total += e - s
                    self._last_spell = (start + k * _DAY, stop + k * _DAY)
        return total

    def _roster(self) -> ProcessGenerator:
        while True:
            now = self.env.now
            spell = self._spell_at(now)
            if spell is not None:
                yield self.env.timeout(spell[1] - now)
                continue
            off_duty = [self.desk.request(priority=_OFF_DUTY) for _ in range(self.officers)]
            yield self.env.timeout(self.next_shift_start(now) - now)
            for request in off_duty:
                if request.triggered:
                    self.desk.release(request)
                else:
                    # The officer was still finishing a task from the last shift.
                    request.cancel()

    # --- tasks ------------------------------------------------------------------------------

    @property
    def queue_length(self) -> int:
        """Tasks waiting for an officer (the roster's off-duty holds are not tasks)."""
        return sum(1 for request in self.desk.queue if request.priority >= 0)

    @property
    def busy_s(self) -> float:
        """Officer-seconds spent on tasks so far, including tasks in hand."""
        now = self.env.now
        return self._closed_busy_s + sum(now - since for since in self._in_service.values())

    @property
    def overtime_s(self) -> float:
        """Officer-seconds spent after a shift's end finishing the task in hand, so far."""
        now = self.env.now
        return self._closed_overtime_s + sum(now - since - self._shift_s(since, now)
                                             for since in self._in_service.values())

    def utilisation(self) -> float:
        """Busy officer-time over officer-time on duty since t=0: shifts, and the overtime spent
        finishing a task past a shift's end (so never above 1; 0 before any duty)."""
        on_duty = self.on_duty_s() + self.overtime_s
        # Busy time never exceeds time on duty, but summed task by task it can by a rounding error.
        return min(1.0, self.busy_s / on_duty) if on_duty > 0 else 0.0

    def serve(self, priority: int = 0, service_s: Sampler | None = None) -> simpy.Event:
        """One task: wait for an officer on shift, take the service time; an event whose value is
        that time (seconds), to ``yield``.

        Lower ``priority`` values are served first; equal priorities in arrival order.
        ``service_s`` replaces the desk's service time for this task (e.g. customs officers
        check documents quickly but take long over a physical inspection).
        """
        served = self.env.event()
        self.begin(priority, service_s, served.succeed)
        return served

    def begin(self, priority: int, service_s: Sampler | None, done: Callable[[float], object]) -> None:
        """``serve`` without an event: ``done(seconds)`` is called the moment the task is finished.

        The task is a request for an officer and, once granted, a timeout, each with a callback:
        no SimPy process of its own, whose start and end would be two more steps per task.
        """
        if priority < 0:
            raise ValueError(f"{self.name}: task priority must be >= 0 (got {priority})")
        env = self.env
        service = service_s or self._service_s
        arrived = env.now
        self.tasks_assigned += 1
        officer = self.desk.request(priority=priority)

        def start(_: simpy.Event) -> None:
            started = env.now
            self.wait_s += started - arrived
            if started > arrived:
                self.wait_off_shift_s += started - arrived - self._shift_s(arrived, started)
            task = self._next_task
            self._next_task += 1
            self.tasks_started += 1
            self._in_service[task] = started
            duration = draw_duration(self.name, "service_s", service)
            if self.fatigue_per_h:  # without fatigue the factor is exactly 1
                duration *= 1.0 + self.fatigue_per_h * self.hours_into_shift(started)

            def finish(_: simpy.Event) -> None:
                began = self._in_service.pop(task)
                self._closed_busy_s += env.now - began
                self._closed_overtime_s += env.now - began - self._shift_s(began, env.now)
                self.desk.release(officer)
                self.tasks_done += 1
                done(duration)

            env.timeout(duration).callbacks.append(finish)

        officer.callbacks.append(start)
