"""Minimal OpenFisca country package for the Shanxi 2021 employment-assistance benchmark.

Inputs and outputs are per person for a calendar year; money is integer fen.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from openfisca_core.simulation_builder import SimulationBuilder
from openfisca_core.taxbenefitsystems import TaxBenefitSystem

from . import entities
from .variables import INPUT_VARIABLES, OUTPUT_VARIABLES

PACKAGE_DIR = Path(__file__).resolve().parent
PARAMETERS_DIR = PACKAGE_DIR / "parameters"

INPUT_NAMES: tuple[str, ...] = tuple(variable.__name__ for variable in INPUT_VARIABLES)
OUTPUT_NAMES: tuple[str, ...] = tuple(variable.__name__ for variable in OUTPUT_VARIABLES)

__all__ = [
    "INPUT_NAMES",
    "OUTPUT_NAMES",
    "CountryTaxBenefitSystem",
    "get_tax_benefit_system",
    "run_openfisca",
]


class CountryTaxBenefitSystem(TaxBenefitSystem):
    """Person entity, four input variables, two formulas, YAML parameters."""

    def __init__(self) -> None:
        super().__init__(entities.entities)
        self.add_variables(*INPUT_VARIABLES, *OUTPUT_VARIABLES)
        self.load_parameters(str(PARAMETERS_DIR))


@functools.cache
def get_tax_benefit_system() -> CountryTaxBenefitSystem:
    """Return a process-wide tax-benefit system (built once; it is read-only here)."""
    return CountryTaxBenefitSystem()


def run_openfisca(
    facts: Mapping[str, np.ndarray],
    year: int,
    tax_benefit_system: TaxBenefitSystem | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Compute (transport_cross_province_fen, training_living_allowance_fen) as int64, in input order.

    Covers simulation build, input loading and calculation; the tax-benefit system is built
    once per process (see `get_tax_benefit_system`) unless one is passed in.
    """
    tbs = tax_benefit_system if tax_benefit_system is not None else get_tax_benefit_system()
    count = len(facts["person_id"])
    period = str(year)
    simulation = SimulationBuilder().build_default_simulation(tbs, count=count)
    for name in INPUT_NAMES:
        values = np.asarray(facts[name])
        if values.shape != (count,):
            raise ValueError(f"{name}: expected shape ({count},), got {values.shape}")
        simulation.set_input(name, period, values)
    transport, training = (simulation.calculate(name, period) for name in OUTPUT_NAMES)
    return transport.astype(np.int64), training.astype(np.int64)
