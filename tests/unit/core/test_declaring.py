"""Submitting declarations to the core: validation, duplicates, and who may declare."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from gate.commands import AcceptDeclaration, RejectDeclaration
from gate.declaration import Declaration, Driver, parse_declaration
from gate.config import RiskConfig, RiskRule
from gate.enums import Channel, Location, Role
from gate.events import DeclarationAmended, DeclarationSubmitted, RoleGranted
from tests.unit.core.support import GateRun, container_declaration, declaration, gate_config, goods, only


def test_an_invalid_declaration_is_rejected_with_every_bad_field_and_no_visit_is_made() -> None:
    run = GateRun()
    data = declaration(vehicle_plate="ABC", declared_gross_kg=-5,
                       driver={"name": "A", "id_number": "x", "nationality": "Vietnam"},
                       goods=[goods(origin="China")])
    answer = run.send(DeclarationSubmitted("trader-1", data))
    rejection = only(answer, RejectDeclaration)
    paths = {e.path for e in rejection.errors}
    assert paths == {"vehicle_plate", "declared_gross_kg", "driver.name", "driver.id_number", "driver.nationality",
                     "goods.0.origin"}
    assert rejection.declaration_id == "DEC-0001"
    refusal = run.refused(answer)
    assert refusal.reason.startswith("declaration rejected: ") and refusal.reason.endswith("and 3 more")
    assert run.core.open_visits() == 0 and run.core.stats["declarations_rejected"] == 1


def test_a_payload_that_is_not_a_mapping_is_rejected_by_the_shape_check() -> None:
    run = GateRun()
    answer = run.send(DeclarationSubmitted("trader-1", ["not", "a", "declaration"]))  # type: ignore[arg-type]
    assert "declaration: must be a declaration or a mapping of its fields" in run.refused(answer).reason


def test_a_declaration_id_already_used_is_rejected() -> None:
    run = GateRun()
    run.declare()
    answer = run.send(DeclarationSubmitted("trader-1", declaration(vehicle_plate="12C-000.02")))
    error = only(answer, RejectDeclaration).errors[0]
    assert (error.path, error.message) == ("declaration_id", "is already used")
    assert run.core.open_visits() == 1


def test_a_declaration_id_of_a_departed_visit_stays_used() -> None:
    run = GateRun()
    visit = run.declare()
    run.through(visit)
    answer = run.send(DeclarationSubmitted("trader-1", declaration()))
    assert only(answer, RejectDeclaration).errors[0].message == "is already used"


def test_a_second_declaration_for_a_vehicle_with_an_open_visit_is_rejected_until_it_departs() -> None:
    run = GateRun()
    first = run.declare()
    answer = run.send(DeclarationSubmitted("trader-1", declaration("DEC-0002")))
    error = only(answer, RejectDeclaration).errors[0]
    assert error.path == "vehicle_plate"
    assert error.message == f"the vehicle already has open declaration {first}"
    run.through(first)
    # the next trip of the same truck
    assert run.declare("DEC-0002") == "DEC-0002"
    assert run.location("DEC-0002") is Location.OUTSIDE


def test_a_new_declaration_must_be_version_one() -> None:
    run = GateRun()
    answer = run.send(DeclarationSubmitted("trader-1", declaration(version=2)))
    assert only(answer, RejectDeclaration).errors[0].path == "version"


def test_a_first_version_too_long_to_print_is_rejected_and_shown_by_its_type() -> None:
    run = GateRun()
    answer = run.send(DeclarationSubmitted("trader-1", declaration(version=10**5000)))
    error = only(answer, RejectDeclaration).errors[0]
    assert (error.path, error.value) == ("version", "<int>")
    assert run.refused(answer).reason.startswith("declaration rejected: version: a new declaration is version 1")
    assert run.core.open_visits() == 0 and run.core.audit.verify() is None


def test_an_unregistered_account_may_declare_when_registration_is_open() -> None:
    run = GateRun()
    assert only(run.send(DeclarationSubmitted("new-company", declaration())), AcceptDeclaration).version == 1
    assert run.core.active["DEC-0001"].owner == "new-company"


def test_an_officer_account_may_not_declare() -> None:
    run = GateRun()
    answer = run.send(DeclarationSubmitted("guard-1", declaration()))
    assert run.refused(answer).reason == "account guard-1 may not declare"
    assert run.core.open_visits() == 0


def test_with_registration_closed_only_declarant_accounts_may_declare() -> None:
    run = GateRun(gate_config(open_declarant_registration=False))
    answer = run.send(DeclarationSubmitted("trader-1", declaration()))
    assert run.refused(answer).reason == "account trader-1 may not declare"
    run.send(RoleGranted("admin", "trader-1", Role.DECLARANT))
    assert run.declare() == "DEC-0001"


def test_an_accepted_declaration_records_the_declarant_in_the_compliance_ledger() -> None:
    run = GateRun()
    run.declare()
    run.declare("DEC-0002", "12C-000.02")
    assert run.core.ledger.declarations("0101234567") == 2


def _validated(declaration_id: str = "DEC-0001", vehicle_plate: str = "12C-000.01") -> Declaration:
    parsed = parse_declaration(declaration(declaration_id, vehicle_plate))
    assert isinstance(parsed, Declaration)
    return parsed


def test_a_declaration_object_that_validation_made_is_taken_as_it_is() -> None:
    run = GateRun()
    validated = _validated()
    only(run.send(DeclarationSubmitted("trader-1", validated)), AcceptDeclaration)
    assert run.core.active["DEC-0001"].declaration is validated


@pytest.mark.parametrize(("built", "paths"), [
    (lambda d: d.model_copy(update={"vehicle_plate": None}), {"vehicle_plate"}),
    (lambda d: d.model_copy(update={"declaration_id": ["x"], "declared_gross_kg": float("nan")}),
     {"declaration_id", "declared_gross_kg"}),
    (lambda d: d.model_copy(update={"driver": Driver.model_construct(name="A")}),
     {"driver.name", "driver.id_number", "driver.nationality"}),
    (lambda d: Declaration.model_construct(), {"declaration_id", "declarant_id", "declarant_name", "direction",
                                               "vehicle_plate", "vehicle_class", "driver", "goods",
                                               "declared_gross_kg"}),
], ids=["plate-none", "id-a-list", "driver-unvalidated", "constructed-empty"])
def test_a_declaration_object_built_without_validation_is_validated_and_rejected_with_its_errors(
        built: Callable[[Declaration], Declaration], paths: set[str]) -> None:
    run = GateRun()
    answer = run.send(DeclarationSubmitted("trader-1", built(_validated())))
    rejection = only(answer, RejectDeclaration)
    assert {e.path for e in rejection.errors} == paths
    assert rejection.declaration_id in (None, "DEC-0001")
    assert run.core.open_visits() == 0 and run.core.check_invariants() == [] and run.core.audit.verify() is None


def test_a_sound_declaration_object_built_without_validation_is_accepted_in_its_normal_form() -> None:
    run = GateRun()
    copied = _validated().model_copy(update={"vehicle_plate": " 12c-000.02 "})
    only(run.send(DeclarationSubmitted("trader-1", copied)), AcceptDeclaration)
    stored = run.core.active["DEC-0001"].declaration
    assert stored is not copied and stored.vehicle_plate == "12C-000.02"
    assert run.plate_of("DEC-0001") == "12C-000.02"


def test_an_amendment_built_without_validation_is_rejected_and_the_visit_keeps_its_plate() -> None:
    run = GateRun()
    visit = run.declare()
    broken = _validated().model_copy(update={"vehicle_plate": None})
    rejection = only(run.send(DeclarationAmended("trader-1", visit, broken)), RejectDeclaration)
    assert [e.path for e in rejection.errors] == ["vehicle_plate"]
    assert run.plate_of(visit) == "12C-000.01"
    assert run.core.check_invariants() == []
    assert run.arrive_at_staging(visit) and run.location(visit) is Location.STAGING


def test_the_same_truck_declared_again_with_fullwidth_digits_is_rejected_as_already_declared() -> None:
    run = GateRun()
    run.declare()
    answer = run.send(DeclarationSubmitted("trader-1", declaration("DEC-0002", "１２C-０００.０１")))
    error = only(answer, RejectDeclaration).errors[0]
    assert (error.path, error.message) == ("vehicle_plate", "the vehicle already has open declaration DEC-0001")
    assert run.core.open_visits() == 1


def test_a_plate_in_arabic_indic_digits_is_rejected() -> None:
    run = GateRun()
    answer = run.send(DeclarationSubmitted("trader-1", declaration(vehicle_plate="١٢C-٠٠٠.٠١")))
    assert [e.path for e in only(answer, RejectDeclaration).errors] == ["vehicle_plate"]


def test_a_watch_listed_declarant_cannot_dodge_its_rule_by_writing_the_tax_code_in_other_digits() -> None:
    rules = (RiskRule(name="watch list", channel=Channel.RED, when_declarant="0101234567"),)
    run = GateRun(gate_config(risk=RiskConfig(expected_yellow=0.0, expected_red=0.0, min_random_yellow=0.0,
                                              min_random_red=0.0, rules=rules)))
    for n, written in enumerate(("０１０１２３４５６７", "٠١٠١٢٣٤٥٦٧"), start=2):
        answer = run.send(DeclarationSubmitted("trader-1", declaration(f"DEC-000{n}", f"12C-000.0{n}",
                                                                       declarant_id=written)))
        assert [e.path for e in only(answer, RejectDeclaration).errors] == ["declarant_id"]
    run.declare()
    assert run.view("DEC-0001").channel is Channel.RED


def test_hs_codes_and_container_numbers_in_fullwidth_digits_are_rejected() -> None:
    run = GateRun()
    fullwidth = str.maketrans("0123456789", "０１２３４５６７８９")
    data = container_declaration("DEC-0001", "12C-000.01", goods=[goods(hs_code="8471".translate(fullwidth))])
    data["containers"][0]["number"] = data["containers"][0]["number"].translate(fullwidth)
    answer = run.send(DeclarationSubmitted("trader-1", data))
    assert {e.path for e in only(answer, RejectDeclaration).errors} == {"goods.0.hs_code", "containers.0.number"}
