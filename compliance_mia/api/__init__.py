"""The Python face of compliance-mia: the same policy, engine and evidence as the CLI.

========================  ======================================================
name                      job
========================  ======================================================
:func:`assess`            a fitted model and data frames in, an Assessment out
:func:`run`               a :class:`Policy` (or a policy file) in, an Assessment out
:func:`load_policy`       read and check a policy YAML file
:func:`check_policy`      check a Policy built in Python against the shipped data
:class:`Assessment`       the evidence, with ``summary``, ``to_pdf``, ``save``...
:class:`Policy`           the policy model the YAML loads into
========================  ======================================================

This layer sits beside the runner, under the CLI: it builds policies, calls
the runner and hands the Assessment to the renderers.
"""

from compliance_mia.api._assess import assess, check_policy, load_policy, run
from compliance_mia.api._progress import ProgressLike
from compliance_mia.api._result import Assessment
from compliance_mia.policy.schema import Policy

__all__ = ["Assessment", "Policy", "ProgressLike", "assess", "check_policy", "load_policy", "run"]
