"""The trucks of a run: when they come, what they carry, what they declare, what is true.

Everything here is drawn from the ``arrivals`` and ``trucks`` streams only, and depends only on
the scenario's ``demand``, ``closures`` and ``demand_windows`` sections and the seed, so two
layouts compared with one seed see exactly the same trucks (common random numbers).

Arrivals are a non-homogeneous Poisson process: each hour's count is Poisson with mean
``trucks_per_day x hourly_profile[hour] x demand multiplier``, spread uniformly in the hour;
or, with ``demand.recorded``, the trucks of a record arrive when it says (each day, when it
repeats daily), what a record leaves out of a truck drawn as for generated trucks.
Trucks that would arrive while the gate is closed are held back and arrive over the closure's
``surge_days`` after it reopens, on top of normal demand (the Tet surge). (The gate itself is
held shut by the barriers and the desks: ``closure_spells``.)
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass

import numpy as np

from gate.declaration import PERISHABLE_CATEGORIES, Declaration
from gate.enums import CrossingMode, Direction, GoodsCategory, Role, VehicleClass
from gate.identifiers import iso6346_check_digit
from hardware_emulators.base import VehicleTruth, draw_uniform
from scenarios.recorded import RecordedTruck
from scenarios.schema import Scenario
from twin.streams import Streams

HOUR = 3600.0
DAY = 86_400.0

#: Goods typical of the Vietnam-China border trade, by category: (HS code, description).
_GOODS: dict[GoodsCategory, tuple[tuple[str, str], ...]] = {
    GoodsCategory.LIVE_ANIMALS: (("01022990", "live cattle"), ("01039200", "live pigs")),
    GoodsCategory.ANIMAL_PRODUCTS: (("03038990", "frozen fish"), ("02071400", "frozen chicken parts")),
    GoodsCategory.PLANTS_FRUIT: (("08109050", "fresh dragon fruit"), ("08106000", "fresh durian"),
                                 ("08045020", "fresh mangoes"), ("08109010", "fresh longan")),
    GoodsCategory.FOODSTUFF: (("19059090", "confectionery"), ("21069099", "food preparations")),
    GoodsCategory.ORE: (("26030000", "copper ore"), ("26011100", "iron ore")),
    GoodsCategory.GENERAL: (("84713020", "laptop computers"), ("64039990", "footwear"),
                            ("85176249", "network equipment"), ("39269099", "plastic articles")),
}
_VN_PROVINCES = ("12", "14", "29", "34", "15", "20", "98", "51")  # Lang Son, Quang Ninh, Hanoi, ...
_CN_PROVINCES = ("桂", "粤", "云", "湘")
_OWNERS = ("CSQ", "MSK", "TGH", "COS", "OOL", "EGH")
_LETTERS = "ABCDEFGHKLMNPSTUVXYZ"
#: Tare of tractor and trailer, and load ranges, in kg.
_TARE_KG = {VehicleClass.SMALL: 2_500.0, VehicleClass.TRUCK: 9_000.0, VehicleClass.CONTAINER: 14_000.0}
_LOAD_KG = {VehicleClass.SMALL: (800.0, 3_500.0), VehicleClass.TRUCK: (5_000.0, 16_000.0),
            VehicleClass.CONTAINER: (8_000.0, 26_000.0)}
_CONTAINER_TARE_KG = {20: 2_300.0, 40: 3_800.0, 45: 4_800.0}


@dataclass(frozen=True, slots=True)
class TruckPlan:
    """One truck of the run, decided before it starts."""

    index: int
    arrival_s: float  # reaches the tracked start of the approach road
    declare_at_s: float  # the declarant submits the declaration
    declaration: Declaration
    truth: VehicleTruth
    #: Wrong data on the declaration, and where an officer would catch it: "papers" (border
    #: guard at barrier 1), "goods" (customs or quarantine), or "" when the declaration is right.
    error: str
    perishable: bool
    pays_online: bool

    @property
    def visit_id(self) -> str:
        return self.declaration.declaration_id


def arrival_times(scenario: Scenario, rng: np.random.Generator) -> np.ndarray:
    """Sorted arrival times (s) over the run's horizon, with closures and demand windows."""
    return planned_arrivals(scenario, rng)[0]


def planned_arrivals(scenario: Scenario, rng: np.random.Generator) -> tuple[np.ndarray, list[RecordedTruck | None]]:
    """Sorted arrival times (s) over the run's horizon, and for each the recorded truck it is
    (``demand.recorded``; None for a generated arrival). Generated arrivals follow the hourly
    profile and demand windows; recorded ones come when the record says, every day when it
    repeats daily. Either way, trucks due while the gate is closed come after it reopens,
    spread over the closure's surge days."""
    recorded = scenario.demand.recorded
    horizon_s = scenario.run.horizon_h * HOUR
    if recorded is None:
        arrivals = _generated_arrivals(scenario, rng)
        arrivals = np.sort(_after_closures(scenario, arrivals, rng))
        arrivals = arrivals[arrivals < horizon_s]
        return arrivals, [None] * len(arrivals)
    days = math.ceil(horizon_s / DAY) if recorded.repeat_daily else 1
    records: list[RecordedTruck] = list(recorded.trucks) * days
    base = np.array([truck.arrival_h * HOUR for truck in recorded.trucks], dtype=float)
    times = np.concatenate([base + day * DAY for day in range(days)])
    times = _after_closures(scenario, times, rng)
    order = np.argsort(times, kind="stable")
    kept = order[times[order] < horizon_s]
    return times[kept], [records[int(i)] for i in kept]


def _generated_arrivals(scenario: Scenario, rng: np.random.Generator) -> np.ndarray:
    """Arrival times (s), sorted, drawn hour by hour from the demand's rate, profile and windows."""
    demand = scenario.demand
    horizon_s = scenario.run.horizon_h * HOUR
    hours = int(np.ceil(scenario.run.horizon_h))
    times: list[np.ndarray] = []
    for hour in range(hours):
        rate = demand.trucks_per_day * demand.hourly_profile[hour % 24] * _multiplier(scenario, hour + 0.5)
        span = min(HOUR, horizon_s - hour * HOUR)
        count = int(rng.poisson(rate * span / HOUR))
        times.append(hour * HOUR + rng.uniform(0.0, span, size=count))
    return np.sort(np.concatenate(times)) if times else np.zeros(0)


def _after_closures(scenario: Scenario, arrivals: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``arrivals`` (in their order) with those due during a closure moved after it reopens,
    spread at random over its surge days."""
    for closure in scenario.closures:
        start, end = closure.start_h * HOUR, closure.end_h * HOUR
        held = (arrivals >= start) & (arrivals < end)
        surge_s = closure.surge_days * DAY
        delayed = end + (rng.uniform(0.0, surge_s, size=int(held.sum())) if surge_s > 0 else 0.0)
        arrivals = np.where(held, 0.0, arrivals)
        arrivals[held] = delayed
    return arrivals


def _recorded_class(record: RecordedTruck) -> VehicleClass | None:
    """The vehicle class a record gives: its own, or a container vehicle when it counts containers."""
    if record.vehicle_class is not None:
        return record.vehicle_class
    return VehicleClass.CONTAINER if record.containers is not None else None


def _multiplier(scenario: Scenario, hour: float) -> float:
    m = 1.0
    for window in scenario.demand_windows:
        if window.start_h <= hour < window.end_h:
            m *= window.multiplier
    return m


def closure_spells(scenario: Scenario, role: Role | None = None) -> list[tuple[float, float]]:
    """The gate's closures (``scenario.closures``) as (start, end) seconds: the crossing is closed,
    the barriers stay down and the agencies are off duty (the officers' holiday). Given a
    ``role``, only those its officers do not work through (``Closure.staffed``)."""
    return [(c.start_h * HOUR, c.end_h * HOUR) for c in scenario.closures if role is None or role not in c.staffed]


def closed_at(scenario: Scenario, now_s: float) -> float | None:
    """If the gate is closed at ``now_s``, when it reopens; else None."""
    for closure in scenario.closures:
        if closure.start_h * HOUR <= now_s < closure.end_h * HOUR:
            return closure.end_h * HOUR
    return None


class WeightedDraw:
    """Draws an index with fixed weights, exactly as ``Generator.choice(n, p=weights / sum)`` does.

    ``choice`` builds the cumulative weights, draws one uniform and searches it on every call:
    an O(n) pass per truck over thousands of declarants. The table is built once here; each draw
    uses the stream the same way (one ``random()``), so the numbers are those ``choice`` gives.
    """

    __slots__ = ("_cdf", "_bounds", "_problem")

    def __init__(self, weights: np.ndarray | list[float], name: str) -> None:
        p = np.asarray(weights, dtype=float)
        # A table nobody draws from may be empty (no container trucks, no sizes): it fails on use.
        self._problem: str | None = None
        if p.size == 0 or not np.all(np.isfinite(p)) or np.any(p < 0) or p.sum() <= 0:
            self._problem = f"{name}: weights must be finite, non-negative and not all zero (got {p.tolist()})"
            p = np.ones(1)
        cdf = np.cumsum(p / p.sum())
        cdf /= cdf[-1]
        self._cdf = cdf
        #: The same table as Python floats: a binary search on it finds what ``searchsorted`` does.
        self._bounds: list[float] = cdf.tolist()

    def draw(self, rng: np.random.Generator) -> int:
        """One index in ``range(len(weights))``."""
        if self._problem is not None:
            raise ValueError(self._problem)
        return bisect_right(self._bounds, rng.random())


class _Mix:
    """A scenario's share table (value -> share), drawn from with ``WeightedDraw``."""

    __slots__ = ("_keys", "_draw")

    def __init__(self, shares: dict, name: str) -> None:  # type: ignore[type-arg]
        self._keys = list(shares)
        self._draw = WeightedDraw([shares[k] for k in self._keys], name)

    def pick(self, rng: np.random.Generator) -> object:
        return self._keys[self._draw.draw(rng)]


def _vn_plate(rng: np.random.Generator, i: int) -> str:
    n = i % 100_000
    letter = _LETTERS[(i // 100_000) % len(_LETTERS)]
    return f"{_VN_PROVINCES[int(rng.integers(len(_VN_PROVINCES)))]}{letter}-{n // 100:03d}.{n % 100:02d}"


def _cn_plate(rng: np.random.Generator, i: int) -> str:
    letter = _LETTERS[(i // 100_000) % len(_LETTERS)]
    return f"{_CN_PROVINCES[int(rng.integers(len(_CN_PROVINCES)))]}{letter}{i % 100_000:05d}"


def container_number(owner: str, serial: int) -> str:
    """An ISO 6346 number with a correct check digit."""
    first_ten = f"{owner}U{serial % 1_000_000:06d}"
    return first_ten + str(iso6346_check_digit(first_ten))


def _origin(direction: Direction, rng: np.random.Generator) -> str:
    if direction is Direction.EXPORT:
        return "VN"
    if direction is Direction.IMPORT:
        return "CN"
    return ("TH", "LA", "KH")[int(rng.integers(3))]


def make_trucks(scenario: Scenario, streams: Streams, declarants: list[str] | None = None,
                id_prefix: str = "D") -> list[TruckPlan]:
    """Every truck of the run, in arrival order. ``declarants`` are enterprise ids to draw from."""
    demand = scenario.demand
    arrivals, records = planned_arrivals(scenario, streams.get("arrivals"))
    rng = streams.get("trucks")
    if not declarants:
        population = max(20, int(demand.trucks_per_day // 2))
        declarants = [f"{100_000_0000 + 7919 * k:010d}" for k in range(population)]
    # Enterprise volumes are skewed: a few large declarants make many trips (Zipf-like weights).
    weights = 1.0 / np.arange(1, len(declarants) + 1) ** 0.8
    weights /= weights.sum()
    declarant_draw = WeightedDraw(weights, "declarants")
    directions = _Mix(demand.direction_mix, "demand.direction_mix")
    vehicle_classes = _Mix(demand.vehicle_class_mix, "demand.vehicle_class_mix")
    cargo = _Mix(demand.cargo_mix, "demand.cargo_mix")
    container_sizes = _Mix(demand.container_sizes, "demand.container_sizes")
    plans: list[TruckPlan] = []
    for i, (arrival, record) in enumerate(zip(arrivals, records, strict=True)):
        # What a record says of a truck is taken as it is; the rest is drawn, in the same order.
        direction: Direction = (record.direction if record is not None and record.direction is not None
                                else directions.pick(rng))  # type: ignore[assignment]
        recorded_class = _recorded_class(record) if record is not None else None
        vehicle_class: VehicleClass = (recorded_class if recorded_class is not None
                                       else vehicle_classes.pick(rng))  # type: ignore[assignment]
        category: GoodsCategory = (record.cargo if record is not None and record.cargo is not None
                                   else cargo.pick(rng))  # type: ignore[assignment]
        containers: list[dict[str, object]] = []
        if vehicle_class is VehicleClass.CONTAINER:
            recorded_count = record.containers if record is not None else None
            if recorded_count == 2:  # two on one trailer: two 20 ft containers
                size, count = 20, 2
            else:
                size = int(container_sizes.pick(rng))  # type: ignore[call-overload]
                count = recorded_count or (2 if size == 20 and rng.random() < 0.3 else 1)
            for k in range(count):
                owner = _OWNERS[int(rng.integers(len(_OWNERS)))]
                containers.append({"number": container_number(owner, 3 * i + k), "size_ft": size})
        if record is not None and record.crossing_mode is not None:
            agv = record.crossing_mode is CrossingMode.AGV_LANE
        else:
            agv = bool(containers) and direction is Direction.EXPORT and rng.random() < demand.agv_share
        transship = (not agv) and rng.random() < demand.transshipment_share
        load_lo, load_hi = _LOAD_KG[vehicle_class]
        cargo_kg = draw_uniform(rng, load_lo, load_hi)
        tare = _TARE_KG[vehicle_class]
        if containers:
            tare += sum(_CONTAINER_TARE_KG[int(c["size_ft"])] for c in containers)  # type: ignore[call-overload,misc]
        true_gross = round(tare + cargo_kg, 0)
        if rng.random() < demand.weight_misdeclaration_rate:
            declared_gross = true_gross * (1.0 - draw_uniform(rng, 0.08, 0.2))  # under-declared
        else:
            declared_gross = true_gross * (1.0 + float(rng.normal(0.0, 0.01)))
        declared_gross = round(max(declared_gross, cargo_kg + 1.0), 0)
        hs, description = _GOODS[category][int(rng.integers(len(_GOODS[category])))]
        plate = _vn_plate(rng, i) if rng.random() < 0.7 else _cn_plate(rng, i)
        nationality = "VN" if plate[0].isdigit() else "CN"
        error = ""
        if rng.random() < demand.declaration_error_rate:
            error = "papers" if rng.random() < 0.5 else "goods"
        lead_s = draw_uniform(rng, 1.0, 12.0) * HOUR
        declarant = declarants[declarant_draw.draw(rng)]
        declaration = Declaration.model_validate({
            "declaration_id": f"{id_prefix}{i:07d}",
            "declarant_id": declarant,
            "declarant_name": f"Enterprise {declarant}",
            "direction": direction,
            "vehicle_plate": plate,
            "vehicle_class": vehicle_class,
            "driver": {"name": f"Driver {i}", "id_number": f"ID{i:08d}", "nationality": nationality},
            "containers": containers,
            "goods": [{"hs_code": hs, "description": description, "quantity": round(cargo_kg, 0), "unit": "kg",
                       "gross_kg": round(cargo_kg, 0), "value_usd": round(cargo_kg * draw_uniform(rng, 0.5, 4.0), 0),
                       "origin": _origin(direction, rng), "category": category}],
            "declared_gross_kg": declared_gross,
            "crossing_mode": CrossingMode.AGV_LANE if agv else CrossingMode.ROAD_HANDOVER,
            "transshipment": transship,
            "arrival_from": max(0.0, float(arrival) - HOUR),
            "arrival_to": float(arrival) + 6 * HOUR,
        })
        suspect = bool(rng.random() < demand.suspect_load_rate)
        plans.append(TruckPlan(
            index=i,
            arrival_s=float(arrival),
            declare_at_s=max(0.0, float(arrival) - lead_s),
            declaration=declaration,
            truth=VehicleTruth(plate=declaration.vehicle_plate, gross_kg=true_gross, suspect=suspect,
                               container=bool(containers)),
            error=error,
            perishable=category in PERISHABLE_CATEGORIES,
            pays_online=bool(rng.random() < scenario.agencies.fee_collector.online_share),
        ))
    return plans
