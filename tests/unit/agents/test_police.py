"""The traffic police at the staging checkpoint: directing, patrolling, releasing by hand."""

from __future__ import annotations

from tests.unit.agents.support import AREA, corridor, waiting


def test_under_a_hold_a_compliant_driver_goes_to_staging_and_a_non_compliant_one_stays_on_the_road() -> None:
    model = corridor()
    model.hold = True
    obeying = waiting(model, "OBEYS", obeys=True, called=True)
    ignoring = waiting(model, "IGNORES", obeys=False, called=True)
    police = model.police
    assert police.direct(obeying) == AREA
    assert police.direct(ignoring) is None
    assert (police.directed, police.ignored) == (1, 1)


def test_a_truck_the_core_holds_is_channelled_even_without_a_general_hold() -> None:
    model = corridor()
    held = waiting(model, "HELD", obeys=True, called=False)
    called = waiting(model, "CALLED", obeys=True, called=True)
    assert model.police.direct(held) == AREA
    assert model.police.direct(called) is None, "under RELEASE a called truck stays where it stopped"


def test_without_channelling_the_police_leave_every_truck_on_the_road() -> None:
    model = corridor(channelling=False)
    model.hold = True
    driver = waiting(model, "V1", obeys=True)
    assert model.police.direct(driver) is None
    orders = model.police.patrol(0.0, forecourt_room=10)
    assert orders.moves == [] and orders.release is None


def test_an_obeying_driver_who_finds_every_area_full_is_counted_as_spilled_once() -> None:
    model = corridor()
    model.hold = True
    for visit in ("A", "B"):
        model.place(waiting(model, visit, obeys=True), AREA, 0.0)
    spilled = waiting(model, "C", obeys=True)
    assert model.police.direct(spilled) is None
    assert model.police.direct(spilled) is None
    assert spilled.spilled and model.police.spills == 1


def test_the_patrol_moves_obeying_drivers_into_room_in_the_order_they_arrived() -> None:
    model = corridor()
    model.hold = True
    first = waiting(model, "FIRST", obeys=True, now=0.0)
    waiting(model, "STUBBORN", obeys=False, now=5.0)
    second = waiting(model, "SECOND", obeys=True, now=10.0)
    waiting(model, "THIRD", obeys=True, now=20.0)
    orders = model.police.patrol(60.0, forecourt_room=0)
    assert orders.moves == [(first, AREA), (second, AREA)], "two places: the first two obeying drivers"
    assert orders.release is None


def test_the_police_release_by_hand_when_a_staging_area_overflows() -> None:
    model = corridor(overflow_spill=2, release_batch=3, release_cooldown_s=600.0)
    model.hold = True
    for visit in ("A", "B"):  # the core holds both (not called): no yard slot for them
        model.place(waiting(model, visit, obeys=True), AREA, 0.0)
    for visit in ("C", "D"):
        model.police.direct(waiting(model, visit, obeys=True))
    orders = model.police.patrol(60.0, forecourt_room=5)
    assert orders.release == (AREA, 2), "both trucks held in the full area, fewer than the batch of 3"
    assert model.police.releases == 1 and model.police.released == 2
    assert model.police.patrol(300.0, forecourt_room=5).release is None, "not again within the cooldown"
    assert model.police.patrol(700.0, forecourt_room=5).release == (AREA, 2)


def test_no_manual_release_while_the_forecourt_is_full_or_too_few_trucks_spill() -> None:
    model = corridor(overflow_spill=2)
    model.hold = True
    for visit in ("A", "B"):
        model.place(waiting(model, visit, obeys=True), AREA, 0.0)
    model.police.direct(waiting(model, "C", obeys=True))
    assert model.police.patrol(60.0, forecourt_room=5).release is None, "one spilled truck is not an overflow"
    model.police.direct(waiting(model, "D", obeys=True))
    assert model.police.patrol(120.0, forecourt_room=0).release is None, "no room in front of barrier 1"
    assert model.police.patrol(180.0, forecourt_room=1).release == (AREA, 1)


def test_trucks_called_forward_drive_on_in_the_order_called_as_the_forecourt_has_room() -> None:
    model = corridor()
    drivers = [waiting(model, visit, obeys=True, called=True) for visit in ("A", "B", "C")]
    for driver in reversed(drivers):  # called in the opposite order to their arrival
        model.queue_for_forecourt(driver)
    assert model.police.release_to_forecourt(0) == []
    assert [d.visit_id for d in model.police.release_to_forecourt(2)] == ["C", "B"]
    assert [d.visit_id for d in model.police.release_to_forecourt(5)] == ["A"]


def test_obeying_drivers_the_patrol_finds_no_room_for_count_as_spilled_and_trigger_the_manual_release() -> None:
    model = corridor(overflow_spill=2, release_batch=3)
    for visit in ("A", "B"):  # the core holds both (not called): no yard slot for them
        model.place(waiting(model, visit, obeys=True), AREA, 0.0)
    # Called forward under RELEASE, they stopped on the road and were rightly left there.
    late = [waiting(model, visit, obeys=True, called=True) for visit in ("C", "D")]
    assert all(model.police.direct(driver) is None for driver in late)
    model.hold = True  # the advice turns to HOLD: they belong in an area, and every area is full
    orders = model.police.patrol(60.0, forecourt_room=5)
    assert orders.moves == []
    assert all(driver.spilled for driver in late) and model.police.spills == 2
    assert orders.release == (AREA, 2)
    assert model.police.patrol(120.0, forecourt_room=5).release is None and model.police.spills == 2, \
        "each spilled driver counted once, and no second release within the cooldown"
