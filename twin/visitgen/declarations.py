"""Pre-arrival declarations as enterprises on the Lang Son / Quang Ninh corridor file them.

``sample_declaration`` builds a validated ``Declaration``: Vietnamese or Chinese plates, ISO 6346
container numbers with correct check digits, HS codes that match the goods category, consistent
weights, a direction, an AGV-lane or road crossing, transshipment. A ``Mix`` holds the shares;
``parse_mix`` reads a named mix or ``key=value`` overrides. ``loadtest_gate_config`` is the gate
the load test runs against. Randomness comes only from numpy Generators (through ``Draws``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np

from gate.config import DeviceSpec, GateConfig, RiskConfig, TrafficConfig, YardConfig
from gate.declaration import Declaration
from gate.enums import CrossingMode, DeviceKind, Direction, GoodsCategory, Site, VehicleClass
from gate.identifiers import iso6346_check_digit

# ---------------------------------------------------------------------------- the mix


@dataclass(frozen=True)
class Mix:
    """Shares of the traffic a load test generates (each in [0, 1])."""

    container: float = 0.60  #: container vehicles; the rest are rigid trucks and small vans
    small: float = 0.05
    agv: float = 0.0  #: of container vehicles, the share handing containers to the AGV lane
    transshipment: float = 0.15
    export: float = 0.30  #: Huu Nghi: 262 export of 870 trucks/day (DOMAIN.md)
    reexport: float = 0.05  #: temporary import for re-export; the rest not export/transit is import
    transit: float = 0.02
    yellow: float = 0.40  #: customs channel shares, national figures (DOMAIN.md)
    red: float = 0.05
    perishable: float = 0.45  #: fruit, animal products, foodstuff, live animals
    online_payment: float = 0.5
    suspect_scan: float = 0.05
    weight_discrepancy: float = 0.02
    returned: float = 0.01  #: an officer returns one clearance for re-declaration
    refused: float = 0.002  #: an officer refuses the visit
    #: An officer decides after the agency's service level, so the core escalates the task (its
    #: timers under load); none by default: a clean stream escalates nothing.
    late: float = 0.0
    vn_plates: float = 0.7

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
                raise ValueError(f"mix.{f.name}: must be a share between 0 and 1 (got {value!r})")
        for names in (("container", "small"), ("export", "reexport", "transit"), ("yellow", "red")):
            total = sum(getattr(self, n) for n in names)
            if total > 1.0 + 1e-9:
                raise ValueError(f"mix: {' + '.join(names)} must be at most 1 (got {total:g})")


#: Named mixes, each with the source of its figures.
NAMED_MIXES: dict[str, Mix] = {
    # National selectivity: green ~55 %, yellow ~40 %, red ~5 %.
    "national": Mix(),
    # Lang Son, H1 2021: red ~20 %; the border's freight is mostly farm produce.
    "lang-son": Mix(red=0.20, yellow=0.40, perishable=0.65, export=0.30),
    # Huu Nghi / Tan Thanh smart gate: containers on the driverless AGV lane.
    "smart-gate": Mix(container=0.85, small=0.0, agv=0.5),
    # Harvest peak: lychee / dragon fruit season, exports dominate.
    "harvest": Mix(export=0.65, reexport=0.02, perishable=0.85, red=0.10),
}


def parse_mix(text: str) -> Mix:
    """A ``Mix`` from ``"lang-son"``, ``"red=0.2,agv=0.1"`` or ``"smart-gate,red=0.1"``.

    Raises ValueError naming the ``--mix`` option, the text given and the bad part.
    """
    try:
        return _parse_mix(text)
    except ValueError as exc:
        raise ValueError(f"--mix {text!r}: {exc}") from None


def _parse_mix(text: str) -> Mix:
    mix = NAMED_MIXES["national"]
    overrides: dict[str, float] = {}
    known = {f.name for f in fields(Mix)}
    for position, token in enumerate(part.strip() for part in text.split(",")):
        if not token:
            continue
        if "=" not in token:
            if position != 0 or token not in NAMED_MIXES:
                raise ValueError(f"unknown named mix {token!r} (named mixes: {', '.join(NAMED_MIXES)}; "
                                 "it must come first)")
            mix = NAMED_MIXES[token]
            continue
        key, _, raw = (s.strip() for s in token.partition("="))
        if key not in known:
            raise ValueError(f"unknown share {key!r} (shares: {', '.join(sorted(known))})")
        if key in overrides:
            raise ValueError(f"share {key!r} given twice: give it once")
        try:
            overrides[key] = float(raw)
        except ValueError:
            raise ValueError(f"mix.{key}: must be a number (got {raw!r})") from None
    return replace(mix, **overrides)


# ---------------------------------------------------------------------------- random draws


class Draws:
    """Uniform draws from a numpy Generator, taken in blocks: scalar draws from numpy are slow."""

    __slots__ = ("_rng", "_block", "_buffer", "_next")

    def __init__(self, rng: np.random.Generator, block: int = 4096) -> None:
        self._rng = rng
        self._block = block
        self._buffer: list[float] = []
        self._next = 0

    def random(self) -> float:
        """A uniform number in [0, 1)."""
        if self._next >= len(self._buffer):
            self._buffer = self._rng.random(self._block).tolist()
            self._next = 0
        value = self._buffer[self._next]
        self._next += 1
        return value

    def uniform(self, lo: float, hi: float) -> float:
        return lo + (hi - lo) * self.random()

    def chance(self, p: float) -> bool:
        return self.random() < p

    def integer(self, lo: int, hi: int) -> int:
        """A whole number in [lo, hi]."""
        return lo + int(self.random() * (hi - lo + 1))

    def pick(self, items: Sequence[Any]) -> Any:
        return items[int(self.random() * len(items))]

    def weighted(self, items: Sequence[tuple[Any, float]]) -> Any:
        x = self.random() * sum(w for _, w in items)
        for item, weight in items:
            x -= weight
            if x < 0:
                return item
        return items[-1][0]


# ---------------------------------------------------------------------------- identifiers

# Lang Son 12, Quang Ninh 14, Hai Phong 15, Hanoi 29/30, Bac Giang 98, Bac Ninh 99, Cao Bang 11,
# Lao Cai 24, Ho Chi Minh City 51: where the border's trucks are registered.
_VN_PROVINCES = (12, 12, 12, 14, 14, 15, 29, 30, 98, 99, 11, 24, 51)
_VN_SERIES = ("C", "C", "C", "C", "H", "LD", "D", "R")
_CN_PROVINCES = "桂桂桂桂粤粤云湘川闽浙苏"  # Guangxi dominates at Huu Nghi and Mong Cai
_CN_SERIAL_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
_CONTAINER_OWNERS = ("MSK", "CSN", "OOL", "TGH", "EGH", "SIT", "HDM", "CMA", "TCN", "CAI")

#: Characters a plate reader confuses, both ways (gate.identifiers keeps the same pairs).
_MISREAD: dict[str, str] = {"0": "D", "D": "0", "8": "B", "B": "8", "1": "I", "I": "1", "5": "S", "S": "5",
                            "2": "Z", "Z": "2", "6": "G", "G": "6"}


def sample_plate(draws: Draws, vietnamese: bool) -> str:
    """A Vietnamese (``14C-123.45``) or Chinese (``桂A12345``) plate in normal form."""
    if vietnamese:
        return (f"{draws.pick(_VN_PROVINCES)}{draws.pick(_VN_SERIES)}-"
                f"{draws.integer(0, 999):03d}.{draws.integer(0, 99):02d}")
    serial = [str(draws.integer(0, 9)) for _ in range(5)]
    if draws.chance(0.2):
        serial[draws.integer(0, 4)] = draws.pick(_CN_SERIAL_LETTERS)
    return f"{draws.pick(_CN_PROVINCES)}{chr(65 + draws.integer(0, 25))}{''.join(serial)}"


def misread_plate(draws: Draws, plate: str) -> str:
    """How a camera misreads ``plate``: one confusable character swapped (or two digits transposed)."""
    spots = [i for i, ch in enumerate(plate) if ch in _MISREAD]
    if spots:
        i = draws.pick(spots)
        return plate[:i] + _MISREAD[plate[i]] + plate[i + 1:]
    digits = [i for i in range(len(plate) - 1) if plate[i].isdigit() and plate[i + 1].isdigit() and plate[i] != plate[i + 1]]
    i = draws.pick(digits) if digits else len(plate) - 2
    return plate[:i] + plate[i + 1] + plate[i] + plate[i + 2:]


def sample_container_number(draws: Draws) -> str:
    """An ISO 6346 freight container number (category U) with its check digit."""
    first_ten = f"{draws.pick(_CONTAINER_OWNERS)}U{draws.integer(0, 999_999):06d}"
    return first_ten + str(iso6346_check_digit(first_ten))


# ---------------------------------------------------------------------------- goods and people

#: (HS code, description, unit, USD per kg) by category. Chapters match gate.declaration's rules.
_GOODS: dict[GoodsCategory, tuple[tuple[str, str, str, float], ...]] = {
    GoodsCategory.PLANTS_FRUIT: (
        ("081060", "fresh durian", "kg", 3.2), ("08109010", "fresh dragon fruit", "kg", 0.9),
        ("080390", "fresh bananas", "kg", 0.4), ("081090", "fresh jackfruit", "kg", 0.6),
        ("080450", "fresh mangoes", "kg", 0.8), ("070320", "fresh garlic", "kg", 0.7),
        ("080810", "fresh apples", "kg", 0.9), ("071410", "dried cassava chips", "kg", 0.25),
    ),
    GoodsCategory.ANIMAL_PRODUCTS: (
        ("030389", "frozen fish", "kg", 2.5), ("030617", "frozen shrimp", "kg", 7.0),
        ("020714", "frozen chicken parts", "kg", 1.6), ("160414", "canned tuna", "kg", 4.0),
    ),
    GoodsCategory.LIVE_ANIMALS: (("010392", "live swine", "head", 2.2), ("010229", "live cattle", "head", 3.0)),
    GoodsCategory.FOODSTUFF: (
        ("190590", "bakery products", "kg", 2.0), ("210690", "food preparations", "kg", 2.5),
        ("170199", "refined cane sugar", "kg", 0.5), ("220299", "soft drinks", "kg", 0.6),
    ),
    GoodsCategory.ORE: (("260300", "copper ore concentrate", "kg", 2.0), ("260111", "iron ore", "kg", 0.1),
                        ("260800", "zinc ore", "kg", 0.9)),
    GoodsCategory.GENERAL: (
        ("851713", "mobile phones", "pcs", 60.0), ("847130", "laptop computers", "pcs", 80.0),
        ("854231", "integrated circuits", "kg", 400.0), ("940360", "wooden furniture", "kg", 2.0),
        ("640399", "leather footwear", "pcs", 15.0), ("520852", "printed cotton fabric", "kg", 6.0),
        ("732690", "steel fittings", "kg", 2.5), ("392690", "plastic articles", "kg", 3.0),
        ("870899", "motor vehicle parts", "kg", 8.0),
    ),
}
_PERISHABLE = ((GoodsCategory.PLANTS_FRUIT, 0.60), (GoodsCategory.ANIMAL_PRODUCTS, 0.20),
               (GoodsCategory.FOODSTUFF, 0.17), (GoodsCategory.LIVE_ANIMALS, 0.03))
_DURABLE = ((GoodsCategory.GENERAL, 0.85), (GoodsCategory.ORE, 0.15))

_VN_FAMILY = ("Nguyen", "Tran", "Le", "Pham", "Hoang", "Vu", "Dang", "Bui", "Do", "Ngo", "Duong", "Ly")
_VN_MIDDLE = ("Van", "Thi", "Duc", "Minh", "Quang", "Huu")
_VN_GIVEN = ("An", "Binh", "Cuong", "Dung", "Hai", "Hung", "Long", "Nam", "Son", "Tuan", "Thanh", "Phong")
_CN_NAMES = ("王伟", "李强", "张磊", "刘洋", "陈杰", "杨勇", "黄军", "赵鹏", "周涛", "吴斌", "韦志明", "农海")
_TRADE_NAMES = ("Hoang Long", "Kim Thanh", "Dong Dang", "Tan Thanh", "Phu Loc", "Bac Son", "Minh Phat", "Viet Trung")


@dataclass(frozen=True, slots=True)
class Declarant:
    """An enterprise that declares, and the platform account it declares with."""

    declarant_id: str
    name: str
    account: str


def sample_declarants(draws: Draws, count: int) -> tuple[Declarant, ...]:
    """``count`` enterprises: Lang Son tax codes (``49...``) and Chinese credit codes (``CN:9145...``)."""
    out = []
    for k in range(count):
        if draws.chance(0.75):
            tax = f"49{draws.integer(0, 99_999_999):08d}"
            out.append(Declarant(tax, f"Cong ty TNHH XNK {draws.pick(_TRADE_NAMES)} {k}", f"ent-{k}"))
        else:
            code = f"9145{draws.integer(0, 9999):04d}MA5K{draws.integer(0, 999_999):06d}X"
            out.append(Declarant(f"CN:{code}", f"广西凭祥{draws.pick(('宏达', '新华', '金源', '友谊'))}贸易有限公司{k}",
                                 f"ent-{k}"))
    return tuple(out)




#: Enterprises for declarations sampled without a declarant of their own.
DEFAULT_DECLARANTS: tuple[Declarant, ...] = sample_declarants(Draws(np.random.default_rng(0)), 50)


def _driver(draws: Draws, vietnamese: bool) -> dict[str, Any]:
    if vietnamese:
        name = f"{draws.pick(_VN_FAMILY)} {draws.pick(_VN_MIDDLE)} {draws.pick(_VN_GIVEN)}"
        return {"name": name, "id_number": f"0{draws.integer(0, 99_999_999_999):011d}", "nationality": "VN"}
    return {"name": draws.pick(_CN_NAMES), "id_number": f"E{draws.integer(0, 99_999_999):08d}", "nationality": "CN"}


def _declaration_fields(draws: Draws, i: int, mix: Mix, plate: str | None, declarant: Declarant | None) -> dict[str, Any]:
    """The fields of a sound declaration, as plain data."""
    vietnamese = plate[0].isdigit() if plate else draws.chance(mix.vn_plates)
    if plate is None:
        plate = sample_plate(draws, vietnamese)
    if declarant is None:
        declarant = draws.pick(DEFAULT_DECLARANTS)
    x = draws.random()
    vehicle_class = (VehicleClass.CONTAINER if x < mix.container else
                     VehicleClass.SMALL if x < mix.container + mix.small else VehicleClass.TRUCK)
    x = draws.random()
    direction = (Direction.EXPORT if x < mix.export else
                 Direction.TEMPORARY_IMPORT_REEXPORT if x < mix.export + mix.reexport else
                 Direction.TRANSIT if x < mix.export + mix.reexport + mix.transit else Direction.IMPORT)
    category = draws.weighted(_PERISHABLE if draws.chance(mix.perishable) else _DURABLE)
    containers: list[dict[str, Any]] = []
    if vehicle_class is VehicleClass.CONTAINER:
        sizes = (20, 20) if draws.chance(0.15) else (draws.pick((20, 40, 40, 40, 45)),)
        containers = [{"number": sample_container_number(draws), "size_ft": s,
                       "seal": f"SL{draws.integer(0, 9_999_999):07d}"} for s in sizes]
        cargo = sum(draws.uniform(8_000, 21_000) if s == 20 else draws.uniform(12_000, 26_000) for s in sizes)
        tare = draws.uniform(14_000, 16_500) + sum(2_200 if s == 20 else 3_800 for s in sizes)
    elif vehicle_class is VehicleClass.TRUCK:
        cargo, tare = draws.uniform(5_000, 15_000), draws.uniform(7_000, 11_000)
    else:
        cargo, tare = draws.uniform(500, 3_000), draws.uniform(1_800, 2_600)
    lines = 2 if draws.chance(0.3) else 1
    goods = []
    for k in range(lines):
        hs_code, description, unit, usd_per_kg = draws.pick(_GOODS[category])
        gross = round(cargo / lines, 1)
        net = round(gross * 0.95, 1)
        quantity = net if unit == "kg" else float(max(1, int(net / (100.0 if unit == "head" else 0.8))))
        goods.append({"hs_code": hs_code, "description": description, "quantity": quantity, "unit": unit,
                      "gross_kg": gross, "value_usd": round(net * usd_per_kg, 2),
                      "origin": "VN" if direction is Direction.EXPORT else "CN", "category": category})
    agv = bool(containers) and draws.chance(mix.agv)
    return {
        "declaration_id": f"LT{i:08d}", "declarant_id": declarant.declarant_id, "declarant_name": declarant.name,
        "direction": direction, "vehicle_plate": plate, "vehicle_class": vehicle_class,
        "driver": _driver(draws, vietnamese), "containers": containers, "goods": goods,
        "declared_gross_kg": round(tare + sum(g["gross_kg"] for g in goods) + 0.5),
        "crossing_mode": CrossingMode.AGV_LANE if agv else CrossingMode.ROAD_HANDOVER,
        "transshipment": draws.chance(mix.transshipment),
    }


def sample_declaration(rng: np.random.Generator | Draws, i: int, mix: Mix | None = None, *, plate: str | None = None,
                       declarant: Declarant | None = None) -> Declaration:
    """A validated pre-arrival declaration with id ``LT{i:08d}``.

    ``plate`` fixes the vehicle (e.g. one the caller knows is not in use); ``declarant`` fixes
    the enterprise. Everything else is drawn from ``rng`` under ``mix``.
    """
    draws = rng if isinstance(rng, Draws) else Draws(rng, block=64)
    return Declaration.model_validate(_declaration_fields(draws, i, mix or Mix(), plate, declarant))


def invalid_declaration_payload(draws: Draws, declaration: Declaration) -> dict[str, Any]:
    """``declaration`` as raw data with one realistic mistake: a container check digit or a plate."""
    data = declaration.model_dump()
    if data["containers"] and draws.chance(0.6):
        number = data["containers"][0]["number"]
        data["containers"][0]["number"] = number[:10] + str((int(number[10]) + 1 + draws.integer(0, 8)) % 10)
    else:
        plate = data["vehicle_plate"]
        data["vehicle_plate"] = plate[:-1] if plate[0].isdigit() else "GX" + plate[1:]
    return data


# ---------------------------------------------------------------------------- the gate under test

AGV_FLEET = "agv-fleet"
PARTNER_LINK = "partner-link"


def loadtest_gate_config(mix: Mix, *, gate_capacity_per_h: float = 60.0, archive_limit: int = 10_000) -> GateConfig:
    """The default phase-2 gate plus an AGV lane, shaped so that the world, not the layout, sets the pace.

    The yard is unlimited and staging large: a load test measures the core, and a full yard would
    only make every vehicle wait. Selection rates are the mix's for trusted and untrusted
    declarants alike, so that the channel shares stay what the mix asks for over a long run.
    """
    base = GateConfig()
    devices = base.devices + (
        DeviceSpec(device_id=AGV_FLEET, kind=DeviceKind.AGV_FLEET, site=Site.AGV_LANE),
        DeviceSpec(device_id=PARTNER_LINK, kind=DeviceKind.PARTNER_LINK, site=Site.PARTNER),
    )
    risk = RiskConfig(expected_yellow=mix.yellow, expected_red=mix.red, min_random_yellow=mix.yellow,
                      min_random_red=mix.red)
    return base.model_copy(update={
        "devices": devices, "risk": risk, "archive_limit": archive_limit,
        "yard": YardConfig(capacity={}, staging_areas={"staging-1": 1_000_000}),
        "traffic": TrafficConfig(gate_capacity_per_h=gate_capacity_per_h),
    })
