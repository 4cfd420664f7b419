"""Combined attack: trained on reference models only, blind to the audit records' membership."""

from __future__ import annotations

import math

import numpy as np
import pytest
from attack_helpers import Split, make_context, tpr_at_fpr
from scipy.stats import norm

from compliance_mia.attacks._signals import reference_matrix, resolution_clip, true_probability
from compliance_mia.attacks.combined import (
    FEATURES,
    ONLINE_FEATURES,
    CombinedOffline,
    CombinedOnline,
    cross_fitted_median,
    online_features,
    pseudo_target_references,
    signal_features,
)
from compliance_mia.attacks.threshold import LossThreshold
from compliance_mia.data import RecordSet


def test_features_match_a_record_by_record_computation():
    gen = np.random.default_rng(2)
    K, n, clip, std = 3, 6, 1e-4, 0.8
    phi_t, p_t = gen.normal(size=n), gen.uniform(0, 1, n)
    phi_refs, p_refs = gen.normal(size=(K, n)), gen.uniform(0, 1, (K, n))
    out = gen.uniform(size=(K, n)) < 0.6
    out[0] = True
    got = signal_features(phi_t, p_t, phi_refs, p_refs, out, clip=clip, std=std)
    assert got.shape == (n, len(FEATURES) - 1)  # the last feature needs a regressor
    for i in range(n):
        ks = [k for k in range(K) if out[k, i]]
        mean_phi = sum(phi_refs[k, i] for k in ks) / len(ks)
        mean_p = sum(p_refs[k, i] for k in ks) / len(ks)
        expected = [
            phi_t[i],
            mean_phi,
            -math.log(norm.sf((phi_t[i] - mean_phi) / std)),
            math.log(max(p_t[i], clip)),
            math.log(max(mean_p, clip)),
            math.log(0.5 * mean_p + 0.5),
        ]
        np.testing.assert_allclose(got[i], expected, rtol=1e-10)


def test_pseudo_target_never_uses_its_pair_partner():
    assert list(pseudo_target_references(0, 4)) == [2, 3]
    assert list(pseudo_target_references(3, 4)) == [0, 1]
    assert list(pseudo_target_references(4, 5)) == [0, 1, 2, 3]  # the unpaired last model


def test_out_reference_count_does_not_reveal_the_pseudo_label(overfit_model, split):
    """Members and non-members of a pseudo-target have the same number of OUT references,
    otherwise the regression could learn the count instead of the signals.
    """
    refs = make_context(overfit_model, split).references("offline")
    population_in = np.asarray(refs.population_in)
    for k in range(refs.count):
        others = pseudo_target_references(k, refs.count)
        counts = (~population_in[others]).sum(axis=0)
        labels = population_in[k]
        assert set(counts[labels]) == set(counts[~labels]) == {len(others) // 2}


def test_scores_do_not_depend_on_which_audit_records_are_members(overfit_model, split):
    """The same audit records (same order) with another membership labelling: same scores.

    Here only the first half of the members are called members and every other audit
    record a non-member; the attack must not notice (it never reads membership).
    """
    audit = split.audit
    half = len(split.members) // 2
    relabelled = Split(
        members=_subset(audit, np.arange(half), "members"),
        non_members=_subset(audit, np.arange(half, len(audit)), "non-members"),
        population=split.population,
        other=split.other,
    )
    np.testing.assert_array_equal(relabelled.audit.ids, audit.ids)
    assert not np.array_equal(relabelled.is_member, split.is_member)
    first = CombinedOffline().run(make_context(overfit_model, split)).scores
    second = CombinedOffline().run(make_context(overfit_model, relabelled)).scores
    np.testing.assert_array_equal(first, second)


def _subset(records: RecordSet, index: np.ndarray, role: str) -> RecordSet:
    return RecordSet(
        role=role,
        ids=records.ids[index],
        X=records.X.iloc[index].reset_index(drop=True),
        y=records.y[index],
        slices=records.slices.iloc[index].reset_index(drop=True),
    )


def test_trained_on_reference_models_and_beats_the_loss_threshold(overfit_model, split):
    ctx = make_context(overfit_model, split)
    result = CombinedOffline().run(ctx)
    assert "population records of each reference model" in result.parameters[
        "attack_training_records"
    ]
    assert set(result.parameters["weights"]) == set(FEATURES)
    loss = tpr_at_fpr(LossThreshold().run(ctx).scores, split.is_member, 0.01)
    combined = tpr_at_fpr(result.scores, split.is_member, 0.01)
    assert combined > loss + 0.05, (combined, loss)


def test_too_few_reference_models_fall_back_to_base(overfit_model, split):
    from compliance_mia.attacks.bayes import DEFAULT_C, base_scores

    ctx = make_context(overfit_model, split, count=2)
    for attack, c in ((CombinedOffline(), DEFAULT_C), (CombinedOnline(), 1.0)):
        result = attack.run(ctx)
        assert "too few reference models" in result.parameters["attack_training_records"]
        refs = ctx.references(attack.spec.reference_mode)
        p_target = true_probability(ctx.target, ctx.y_index)
        p_refs = reference_matrix(refs, ctx.y_index, true_probability)
        floor = resolution_clip([p_target, p_refs])
        np.testing.assert_array_equal(result.scores, base_scores(p_target, p_refs, c, floor=floor))


def test_online_features_match_a_record_by_record_computation():
    gen = np.random.default_rng(4)
    K, n, clip = 4, 5, 1e-4
    phi_t, p_t = gen.normal(size=n), gen.uniform(0, 1, n)
    phi_refs, p_refs = gen.normal(size=(K, n)), gen.uniform(0, 1, (K, n))
    is_in = np.array([[True, False, True, False, True]] * 2 + [[False, True, False, True, False]] * 2)
    got = online_features(phi_t, p_t, phi_refs, p_refs, is_in, clip=clip, std_in=0.5, std_out=0.7)
    assert got.shape == (n, len(ONLINE_FEATURES))
    for i in range(n):
        ins = [k for k in range(K) if is_in[k, i]]
        outs = [k for k in range(K) if not is_in[k, i]]
        m_in = np.mean(phi_refs[ins, i])
        m_out = np.mean(phi_refs[outs, i])
        expected = [
            phi_t[i],
            m_in,
            m_out,
            norm.logpdf(phi_t[i], m_in, 0.5) - norm.logpdf(phi_t[i], m_out, 0.7),
            math.log(p_t[i]),
            math.log(np.mean(p_refs[ins, i])),
            math.log(np.mean(p_refs[outs, i])),
            math.log(np.mean(p_refs[:, i])),
        ]
        np.testing.assert_allclose(got[i], expected, rtol=1e-10)


def test_online_scores_do_not_depend_on_which_audit_records_are_members(overfit_model, split):
    audit = split.audit
    half = len(split.members) // 2
    relabelled = Split(
        members=_subset(audit, np.arange(half), "members"),
        non_members=_subset(audit, np.arange(half, len(audit)), "non-members"),
        population=split.population,
        other=split.other,
    )
    first = CombinedOnline().run(make_context(overfit_model, split))
    second = CombinedOnline().run(make_context(overfit_model, relabelled))
    np.testing.assert_array_equal(first.scores, second.scores)
    assert "membership of the audit records is never read" in first.parameters["attack_training_records"]


def test_cross_fitted_median_never_predicts_a_row_it_was_fitted_on():
    """Changing one row's target value cannot change that row's own prediction."""
    gen = np.random.default_rng(6)
    features = gen.normal(size=(400, 3))
    phi = features[:, 0] + gen.normal(size=400)
    non_member = gen.uniform(size=400) < 0.5
    folds = gen.integers(0, 2, 400).astype(bool)
    base = cross_fitted_median(features, phi, non_member, folds, seed=1)
    row = int(np.flatnonzero(non_member)[0])
    moved = phi.copy()
    moved[row] += 100.0
    again = cross_fitted_median(features, moved, non_member, folds, seed=1)
    assert again[row] == base[row]
    assert not np.array_equal(again, base)  # it did change the other fold's predictions


def test_combined_offline_refuses_overlapping_population_and_audit(overfit_model, split):
    from compliance_mia.attacks.qmia import OverlapError

    leaky = Split(
        members=split.members,
        non_members=split.non_members,
        population=RecordSet.concat([split.population, split.members], role="population"),
        other=split.other,
    )
    with pytest.raises(OverlapError):
        CombinedOffline().run(make_context(overfit_model, leaky))
