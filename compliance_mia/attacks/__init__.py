"""Membership inference attacks: a registry of plugins, one module per family.

Importing this package registers the built-in attacks. Adding an attack means
adding one module here (and its tests); the planner, the CLI's ``attacks``
listing, the report and the docs pick it up from the registry.
"""

from compliance_mia.attacks import label_only, threshold  # noqa: F401 - registration
from compliance_mia.attacks.base import (
    Attack,
    AttackContext,
    AttackResult,
    AttackSpec,
    get_attack,
    register,
    registry,
)

__all__ = ["Attack", "AttackContext", "AttackResult", "AttackSpec", "get_attack", "register", "registry"]
