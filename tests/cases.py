"""Small real cases for end-to-end tests (``from cases import write_small_case``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml


def write_small_case(
    directory: Path,
    *,
    n_members: int = 300,
    n_non_members: int = 300,
    n_population: int = 400,
    overfit: bool = True,
    seed: int = 7,
    policy_overrides: dict | None = None,
) -> Path:
    """A small, real tabular case: data files, a skops model and a policy; returns the policy path.

    Records come from sklearn's bundled breast-cancer data plus seeded jitter,
    enough for end-to-end runs that take seconds.
    """
    import skops.io as sio
    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import RandomForestClassifier

    directory.mkdir(parents=True, exist_ok=True)
    bunch = load_breast_cancer(as_frame=True)
    frame = bunch.frame.rename(columns=lambda c: c.replace(" ", "_"))
    gen = np.random.default_rng(seed)
    total = n_members + n_non_members + n_population
    idx = gen.choice(len(frame), size=total, replace=total > len(frame))
    data = frame.iloc[idx].reset_index(drop=True)
    features = [c for c in data.columns if c != "target"]
    data[features] = data[features] * gen.normal(1.0, 0.03, size=(total, len(features)))
    data.insert(0, "record_id", [f"R{i:05d}" for i in range(total)])
    data["diagnosis"] = np.where(data.pop("target") == 1, "benign", "malignant")
    data["site"] = gen.choice(["north", "south", "east"], size=total)
    members = data.iloc[:n_members]
    non_members = data.iloc[n_members : n_members + n_non_members]
    population = data.iloc[n_members + n_non_members :]
    params = {"n_estimators": 30, "random_state": 0, "n_jobs": 1}
    if not overfit:
        params.update(max_depth=2, min_samples_leaf=40)
    model = RandomForestClassifier(**params).fit(members[features], members["diagnosis"])
    members.to_csv(directory / "members.csv", index=False)
    non_members.to_csv(directory / "non_members.csv", index=False)
    population.to_csv(directory / "population.csv", index=False)
    sio.dump(model, directory / "model.skops")
    policy = {
        "system": {
            "name": "Tumour triage model",
            "owner": "Oncology ML",
            "assessment_type": "pre-deployment",
        },
        "model": {"format": "skops", "artifact": "model.skops"},
        "data": {
            "members": "members.csv",
            "non_members": "non_members.csv",
            "population": "population.csv",
            "id_column": "record_id",
            "label_column": "diagnosis",
            "exclude_columns": ["site"],
            "slice_columns": ["site"],
            "categories": ["health", "phi"],
            "data_subjects": n_members,
        },
        "exposure": {"outputs": "probabilities", "access": "public"},
        "regulations": ["gdpr", "hipaa"],
        "seed": seed,
        "attacks": {"reference_models": {"count": 2, "backend": "sequential"}},
        "statistics": {"bootstrap_resamples": 200},
    }
    for key, value in (policy_overrides or {}).items():
        if isinstance(value, dict) and isinstance(policy.get(key), dict):
            policy[key] = {**policy[key], **value}
        else:
            policy[key] = value
    path = directory / "policy.yaml"
    path.write_text(yaml.safe_dump(policy, sort_keys=False), encoding="utf-8")
    return path
