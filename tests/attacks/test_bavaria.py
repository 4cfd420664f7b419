"""BaVarIA: the empirical-Bayes variance prior and the Student-t scores, against direct computation."""

from __future__ import annotations

import numpy as np
from attack_helpers import make_context
from scipy import stats

from compliance_mia.attacks.bavaria import BavariaOnline, fit_prior, posterior_predictive
from compliance_mia.attacks.lira import logit_signals


def test_prior_recovers_the_variance_distribution_it_was_drawn_from():
    gen = np.random.default_rng(3)
    nu0, s0 = 6.0, 0.8
    n, k = 4000, 5
    true_var = nu0 * s0 / gen.chisquare(nu0, n)  # scaled inverse-χ²(ν₀, σ₀²)
    values = gen.normal(0.0, np.sqrt(true_var), size=(k, n))
    sample_var = values.var(axis=0, ddof=1)
    fitted_s0, fitted_nu = fit_prior(sample_var, np.full(n, k - 1))
    assert abs(fitted_s0 - s0) < 0.1 * s0
    assert abs(fitted_nu - nu0) < 0.25 * nu0


def test_posterior_predictive_is_the_conjugate_update():
    gen = np.random.default_rng(4)
    values = gen.normal(size=(6, 50)) * gen.uniform(0.5, 2.0, 50)
    mask = np.ones_like(values, dtype=bool)
    mask[:2, :10] = False  # some records have fewer models
    mean, scale, nu, (s0, nu0) = posterior_predictive(values, mask)
    for i in (0, 25):
        v = values[mask[:, i], i]
        k = len(v)
        ss = ((v - v.mean()) ** 2).sum()
        expected_var = (nu0 * s0 + ss) / (nu0 + k - 1)
        assert np.isclose(mean[i], v.mean())
        assert np.isclose(nu[i], nu0 + k - 1)
        assert np.isclose(scale[i], np.sqrt(expected_var * (1 + 1 / k)))


def test_online_scores_are_the_student_t_likelihood_ratio(overfit_model, split):
    ctx = make_context(overfit_model, split)
    result = BavariaOnline().run(ctx)
    refs = ctx.references("online")
    phi, phi_refs, _ = logit_signals(ctx, refs)
    m_in, s_in, n_in, _ = posterior_predictive(phi_refs, refs.audit_in)
    m_out, s_out, n_out, _ = posterior_predictive(phi_refs, ~refs.audit_in)
    expected = stats.t.logpdf(phi, n_in, m_in, s_in) - stats.t.logpdf(phi, n_out, m_out, s_out)
    np.testing.assert_allclose(result.scores, expected)
    assert result.parameters["prior_in_nu"] > 0 and result.parameters["prior_out_sigma2"] > 0


def test_rank_average_is_the_mean_rank_of_bavaria_and_rmia(overfit_model, split):
    from scipy.stats import rankdata

    from compliance_mia.attacks.bavaria import BavariaRmiaOnline
    from compliance_mia.attacks.rmia import RmiaOnline

    ctx = make_context(overfit_model, split)
    result = BavariaRmiaOnline().run(ctx)
    n = len(split.audit)
    expected = (rankdata(BavariaOnline().run(ctx).scores) + rankdata(RmiaOnline().run(ctx).scores)) / (2 * n)
    np.testing.assert_allclose(result.scores, expected)
    assert 0 < result.scores.min() and result.scores.max() <= 1
