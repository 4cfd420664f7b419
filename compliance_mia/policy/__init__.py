"""The assessment policy: schema and loading."""

from compliance_mia.policy.loader import load_policy, policy_json_schema
from compliance_mia.policy.schema import POLICY_SCHEMA_VERSION, Policy

__all__ = ["POLICY_SCHEMA_VERSION", "Policy", "load_policy", "policy_json_schema"]
