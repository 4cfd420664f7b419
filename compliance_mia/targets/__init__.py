"""Model adapters: how the assessment reaches the model under test."""

from compliance_mia.targets.base import RawOutputs, Target, class_index
from compliance_mia.targets.factory import open_target

__all__ = ["RawOutputs", "Target", "class_index", "open_target"]
