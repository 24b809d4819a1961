"""Input variables and formulas of the Shanxi 2021 employment-assistance benefits (amounts in fen)."""

from openfisca_core.model_api import YEAR, Variable, min_, where

from .entities import Person


class poverty_alleviated(Variable):
    """Whether the person belongs to the poverty-alleviated labour force."""

    value_type = bool
    entity = Person
    definition_period = YEAR
    label = "Poverty-alleviated labour force"


class cross_province_this_year(Variable):
    """Whether the person worked outside Shanxi during the year."""

    value_type = bool
    entity = Person
    definition_period = YEAR
    label = "Worked outside Shanxi during the year"


class travel_cost_fen(Variable):
    """Declared travel cost, in fen."""

    value_type = int
    entity = Person
    definition_period = YEAR
    label = "Declared travel cost (fen)"


class training_days(Variable):
    """Training days attended during the year."""

    value_type = int
    entity = Person
    definition_period = YEAR
    label = "Training days in the year"


class transport_cross_province_fen(Variable):
    """One-off cross-province transport subsidy, in fen."""

    value_type = int
    entity = Person
    definition_period = YEAR
    label = "Cross-province transport subsidy (fen)"

    def formula(person, period, parameters):
        cap = parameters(period).employment_assistance.transport_cross_province_cap_fen
        eligible = person("poverty_alleviated", period) * person("cross_province_this_year", period)
        return where(eligible, min_(person("travel_cost_fen", period), cap), 0)


class training_living_allowance_fen(Variable):
    """Living allowance during training, in fen."""

    value_type = int
    entity = Person
    definition_period = YEAR
    label = "Training living allowance (fen)"

    def formula(person, period, parameters):
        daily_rate = parameters(period).employment_assistance.training_living_allowance_daily_rate_fen
        days = person("training_days", period)
        eligible = person("poverty_alleviated", period) * (days > 0)
        return where(eligible, days * daily_rate, 0)


INPUT_VARIABLES = (poverty_alleviated, cross_province_this_year, travel_cost_fen, training_days)
OUTPUT_VARIABLES = (transport_cross_province_fen, training_living_allowance_fen)
