"""Agency desk: nothing served off shift, the task in hand finished, utilisation, fatigue."""

from __future__ import annotations

import numpy as np
import pytest
import simpy

from gate.enums import Role
from hardware_emulators import AgencyDesk, constant
from hardware_emulators.base import exponential

HOUR = 3600.0


def _task_at(env: simpy.Environment, desk: AgencyDesk, at: float, served: list[tuple[float, float]]) -> None:
    def task() -> simpy.events.ProcessGenerator:
        yield env.timeout(at)
        arrived = env.now
        duration = yield desk.serve()
        served.append((env.now - duration, env.now))
        assert env.now - duration >= arrived

    env.process(task())


def test_a_desk_serves_nothing_off_shift(env: simpy.Environment) -> None:
    desk = AgencyDesk(env, Role.PLANT_QUARANTINE, officers=2, shifts=[(7, 19)], service_s=constant(20 * 60))
    served: list[tuple[float, float]] = []
    for at in (0.0, 3 * HOUR, 6.9 * HOUR, 20 * HOUR):
        _task_at(env, desk, at, served)
    env.run(until=4 * HOUR)
    assert desk.queue_length == 2 and desk.tasks_started == 0
    env.run(until=2 * 86_400)
    starts = sorted(start for start, _ in served)
    assert starts == [7 * HOUR, 7 * HOUR, 7 * HOUR + 20 * 60, 86_400 + 7 * HOUR]
    assert all(desk.on_shift(s) for s in starts)


def test_the_wait_outside_the_shifts_is_told_from_the_wait_for_a_busy_officer(env: simpy.Environment) -> None:
    desk = AgencyDesk(env, Role.PLANT_QUARANTINE, officers=1, shifts=[(7, 19)], service_s=constant(HOUR))
    served: list[tuple[float, float]] = []
    _task_at(env, desk, 5 * HOUR, served)  # waits 2 h for the shift: off shift
    _task_at(env, desk, 7.5 * HOUR, served)  # waits 30 min for the officer busy with the first: on shift
    env.run(until=86_400)
    assert desk.wait_s == 2.5 * HOUR
    assert desk.wait_off_shift_s == 2 * HOUR


def test_an_officer_finishes_the_task_in_hand_at_the_shift_end(env: simpy.Environment) -> None:
    desk = AgencyDesk(env, Role.HEALTH_QUARANTINE, officers=1, shifts=[(7, 19)], service_s=constant(2 * HOUR))
    served: list[tuple[float, float]] = []
    _task_at(env, desk, 18 * HOUR, served)  # runs past 19:00
    _task_at(env, desk, 18.5 * HOUR, served)  # must wait for tomorrow's shift
    env.run(until=2 * 86_400)
    assert served == [(18 * HOUR, 20 * HOUR), (86_400 + 7 * HOUR, 86_400 + 9 * HOUR)]


def test_utilisation_is_busy_time_over_time_on_duty(env: simpy.Environment) -> None:
    # Two officers on 08:00-16:00; a 30-min task every 30 min from 08:00 to 15:30.
    desk = AgencyDesk(env, Role.CUSTOMS, officers=2, shifts=[(8, 16)], service_s=constant(30 * 60))
    served: list[tuple[float, float]] = []
    for i in range(16):
        _task_at(env, desk, 8 * HOUR + i * 30 * 60, served)
    env.run(until=86_400)
    assert desk.tasks_done == 16
    assert desk.busy_s == 16 * 30 * 60
    assert desk.on_duty_s() == 2 * 8 * HOUR
    assert desk.utilisation() == pytest.approx(0.5)
    assert desk.wait_s == 0


def test_overtime_finishing_a_task_counts_as_time_on_duty_so_utilisation_never_exceeds_one(
        env: simpy.Environment) -> None:
    # One officer on a one-hour shift, 07:00-08:00, given a two-hour task at 07:00.
    desk = AgencyDesk(env, Role.MEDICAL, officers=1, shifts=[(7, 8)], service_s=constant(2 * HOUR))
    served: list[tuple[float, float]] = []
    _task_at(env, desk, 7 * HOUR, served)
    env.run(until=8.5 * HOUR)
    assert desk.overtime_s == pytest.approx(0.5 * HOUR)
    assert desk.utilisation() == pytest.approx(1.0)
    env.run(until=86_400)
    assert served == [(7 * HOUR, 9 * HOUR)]
    assert (desk.busy_s, desk.on_duty_s(), desk.overtime_s) == (2 * HOUR, 1 * HOUR, 1 * HOUR)
    assert desk.utilisation() == 1.0


def test_a_busy_desk_over_days_is_never_more_than_fully_utilised_not_even_by_rounding(env: simpy.Environment) -> None:
    rng = np.random.default_rng(4)  # a day whose task-by-task sums overshoot by a rounding error
    desk = AgencyDesk(env, Role.MEDICAL, officers=2, shifts=[(6, 18)], service_s=exponential(rng, 170.0))

    def arrivals() -> simpy.events.ProcessGenerator:
        while True:
            yield env.timeout(float(rng.exponential(60.0)))
            desk.serve()

    env.process(arrivals())
    env.run(until=2 * 86_400 + 20 * HOUR)
    assert desk.busy_s / (desk.on_duty_s() + desk.overtime_s) > 1  # the rounding error itself
    assert desk.utilisation() == 1.0


def test_a_round_the_clock_desk_never_holds_a_task(env: simpy.Environment) -> None:
    desk = AgencyDesk(env, Role.CUSTOMS, officers=1, shifts=[(0, 24)], service_s=constant(600))
    served: list[tuple[float, float]] = []
    for at in (0.0, 3 * HOUR, 23.95 * HOUR):
        _task_at(env, desk, at, served)
    env.run(until=2 * 86_400)
    assert [start for start, _ in served] == [0.0, 3 * HOUR, 23.95 * HOUR]
    assert desk.on_duty_s(86_400) == 86_400


def test_a_night_shift_wraps_past_midnight(env: simpy.Environment) -> None:
    desk = AgencyDesk(env, Role.BORDER_GUARD, officers=1, shifts=[(19, 7)], service_s=constant(600))
    assert desk.on_shift(3 * HOUR) and desk.on_shift(23 * HOUR) and not desk.on_shift(12 * HOUR)
    assert desk.next_shift_start(12 * HOUR) == 19 * HOUR
    assert desk.hours_into_shift(86_400 + 2 * HOUR) == pytest.approx(7.0)
    assert desk.on_duty_s(86_400) == 12 * HOUR  # 00:00-07:00 and 19:00-24:00
    served: list[tuple[float, float]] = []
    _task_at(env, desk, 8 * HOUR, served)
    env.run(until=86_400)
    assert served == [(19 * HOUR, 19 * HOUR + 600)]


def test_fatigue_lengthens_service_later_in_the_shift(env: simpy.Environment) -> None:
    desk = AgencyDesk(env, Role.MEDICAL, officers=1, shifts=[(8, 16)], service_s=constant(600), fatigue_per_h=0.1)
    served: list[tuple[float, float]] = []
    _task_at(env, desk, 8 * HOUR, served)
    _task_at(env, desk, 12 * HOUR, served)
    env.run(until=86_400)
    assert [end - start for start, end in served] == pytest.approx([600.0, 840.0])


def test_crews_handing_over_keep_the_desk_open(env: simpy.Environment) -> None:
    desk = AgencyDesk(env, Role.MEDICAL, officers=1, shifts=[(6, 14), (14, 22)], service_s=constant(600), fatigue_per_h=0.1)
    served: list[tuple[float, float]] = []
    _task_at(env, desk, 14 * HOUR, served)
    env.run(until=86_400)
    assert served == [(14 * HOUR, 14 * HOUR + 600)]  # a fresh crew: no fatigue yet


@pytest.mark.parametrize(
    ("shifts", "message"),
    [([], "at least one"), ([(7, 19), (18, 22)], "shifts overlap"), ([(7, 7)], "same hour"), ([(25, 3)], "0 <= start_h < 24")],
)
def test_impossible_shifts_are_refused(env: simpy.Environment, shifts: list[tuple[float, float]], message: str) -> None:
    with pytest.raises(ValueError, match=f"desk customs: .*{message}"):
        AgencyDesk(env, Role.CUSTOMS, officers=1, shifts=shifts, service_s=constant(600))


def test_a_task_can_bring_its_own_service_time(env, rng) -> None:
    from gate.enums import Role
    from hardware_emulators import AgencyDesk

    desk = AgencyDesk(env, Role.CUSTOMS, officers=1, shifts=[(0.0, 24.0)], service_s=lambda: 60.0)
    quick = desk.serve()
    slow = desk.serve(service_s=lambda: 2700.0)
    env.run(until=slow)
    assert quick.value == 60.0
    assert slow.value == 2700.0
    assert env.now == 2760.0


def test_a_desk_counts_every_task_given_to_it_as_assigned_waiting_or_done(env: simpy.Environment) -> None:
    desk = AgencyDesk(env, Role.FEE_COLLECTOR, officers=1, shifts=[(0, 24)], service_s=constant(600))
    served: list[tuple[float, float]] = []
    for at in (0.0, 0.0, 0.0):
        _task_at(env, desk, at, served)
    env.run(until=700)
    assert (desk.tasks_assigned, desk.tasks_started, desk.tasks_done, desk.queue_length) == (3, 2, 1, 1)
    env.run(until=2000)
    assert desk.tasks_assigned == desk.tasks_done == 3


def test_nobody_is_on_duty_in_an_off_duty_spell_whatever_the_shifts(env: simpy.Environment) -> None:
    # Around the clock, but off for a holiday from day 1 to day 3: the officer in hand at its
    # start finishes the task, nothing starts in it, and the work resumes at its end.
    desk = AgencyDesk(env, Role.CUSTOMS, officers=1, shifts=[(0, 24)], service_s=constant(HOUR),
                      off_duty=[(86_400, 3 * 86_400)])
    served: list[tuple[float, float]] = []
    for at in (86_400 - 0.5 * HOUR, 86_400 + 5 * HOUR, 2 * 86_400):
        _task_at(env, desk, at, served)
    env.run(until=4 * 86_400)
    assert served == [(86_400 - 0.5 * HOUR, 86_400 + 0.5 * HOUR), (3 * 86_400, 3 * 86_400 + HOUR),
                      (3 * 86_400 + HOUR, 3 * 86_400 + 2 * HOUR)]
    assert not desk.on_shift(2 * 86_400) and desk.on_shift(3 * 86_400)
    assert desk.on_duty_s() == 2 * 86_400
    assert desk.overtime_s == 0.5 * HOUR


def test_after_an_off_duty_spell_the_desk_opens_at_the_next_shift(env: simpy.Environment) -> None:
    desk = AgencyDesk(env, Role.PLANT_QUARANTINE, officers=1, shifts=[(7, 19)], service_s=constant(HOUR),
                      off_duty=[(86_400, 2 * 86_400 + 10 * HOUR)])  # ends at 10:00 mid-shift on day 2
    assert desk.next_shift_start(20 * HOUR) == 2 * 86_400 + 10 * HOUR
    assert desk.next_shift_start(2 * 86_400 + 11 * HOUR) == 3 * 86_400 + 7 * HOUR
    assert desk.hours_into_shift(2 * 86_400 + 12 * HOUR) == 2.0
    served: list[tuple[float, float]] = []
    _task_at(env, desk, 86_400 + 8 * HOUR, served)
    env.run(until=3 * 86_400)
    assert served == [(2 * 86_400 + 10 * HOUR, 2 * 86_400 + 11 * HOUR)]
    with pytest.raises(ValueError, match="off-duty spell"):
        AgencyDesk(env, Role.CUSTOMS, officers=1, shifts=[(0, 24)], service_s=constant(1), off_duty=[(5, 5)])


@pytest.mark.parametrize("shifts", [[(0, 24)], [(7, 19)], [(19, 7)], [(6, 14), (14, 22)], [(6.5, 14.25), (14.25, 22.1), (22.1, 6.5)]])
def test_time_on_shift_is_the_same_whatever_was_asked_before(shifts: list[tuple[float, float]]) -> None:
    def desk() -> AgencyDesk:
        return AgencyDesk(simpy.Environment(), Role.CUSTOMS, officers=1, shifts=shifts, service_s=constant(60.0),
                          off_duty=[(30 * HOUR, 40 * HOUR)])

    rng = np.random.default_rng(7)
    asked = desk()  # asked one stretch after another, as tasks come and go
    begin = 0.0
    for _ in range(2_000):
        begin = begin + float(rng.uniform(0, 2 * HOUR)) if rng.random() < 0.9 else float(rng.uniform(0, 4 * 86_400))
        end = begin + float(rng.choice([0.0, rng.uniform(0, 600), rng.uniform(0, 12 * HOUR), rng.uniform(0, 3 * 86_400)]))
        assert asked._shift_s(begin, end) == desk()._shift_s(begin, end)  # each on a desk that was asked nothing
