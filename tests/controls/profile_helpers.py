"""The leakage profile as the runner builds it, for tests that feed recommend() hand-made outcomes."""

from __future__ import annotations

from compliance_mia.risk.facts import leakage_profile


def profile_of(outcomes):
    """Leakage profile as the runner builds it: from the strongest attack and the strongest label-only one.

    The fixtures mark label-only attacks with family "label-only"; each headline
    quotes its attack's own figures.
    """
    from compliance_mia.assessment import Headline

    label = {o.name for o in outcomes if o.family == "label-only"}

    def head(group):
        if not group:
            return None
        best = max(group, key=lambda o: o.metrics.auc.estimate or 0.0)
        return Headline(
            strongest_attack=best.name,
            auc=best.metrics.auc,
            tpr_at_fpr=best.metrics.operating_points,
            selection_correction="",
        )

    return leakage_profile(
        outcomes,
        headline=head(outcomes),
        label_only_headline=head([o for o in outcomes if o.name in label]),
        label_only=label,
    )
