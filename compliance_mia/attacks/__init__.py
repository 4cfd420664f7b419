"""Membership inference attacks: a registry of plugins, one module per family.

Importing this package registers the built-in attacks. Adding an attack means
adding one module here (and its tests); the planner, the CLI's ``attacks``
listing, the report and the docs pick it up from the registry.

========================  =============================================  ==================
module                    attacks                                        reference models
========================  =============================================  ==================
label_only                gap, label-robustness,                         –, –, offline
                          label-robustness-calibrated
boundary                  boundary-distance (label-only line search)     offline
threshold                 loss, confidence, entropy, modified-entropy    –
calibrated                calibrated-loss                                offline
shadow                    shadow                                         offline
lira                      lira-offline, lira-online                      offline, online
rmia                      rmia-offline, rmia-online                      offline, online
qmia                      qmia (quantile regression on the population)   –
bayes                     base-offline                                   offline
bavaria                   bavaria-offline, bavaria-online,               offline, online,
                          bavaria-rmia-online (rank average)             online
combined                  combined-offline, combined-online              offline, online
========================  =============================================  ==================
"""

from compliance_mia.attacks import (  # noqa: F401 - registration
    bavaria,
    bayes,
    boundary,
    calibrated,
    combined,
    label_only,
    lira,
    qmia,
    rmia,
    shadow,
    threshold,
)
from compliance_mia.attacks.base import (
    Attack,
    AttackContext,
    AttackResult,
    AttackSpec,
    get_attack,
    register,
    registry,
)

__all__ = [
    "Attack",
    "AttackContext",
    "AttackResult",
    "AttackSpec",
    "get_attack",
    "register",
    "registry",
]
