"""Entities of the minimal Shanxi OpenFisca system: a single person entity."""

from openfisca_core.entities import build_entity

Person = build_entity(
    key="person",
    plural="persons",
    label="A person",
    doc="An individual applicant of the Shanxi 2021 employment-assistance policy.",
    is_person=True,
)

entities = [Person]
