"""Assess a model from Python: the same policy, the same engine, the same evidence as the CLI.

:func:`assess` takes a fitted estimator and data frames, writes them into a
private folder (Parquet and skops, as an analyst would for the CLI), writes
the policy that describes them as YAML, loads it with the CLI's own loader
and runs the CLI's own runner. The evidence hashes therefore cover the same
kind of files, and equal inputs give the same ``assessment.json``.
"""

from __future__ import annotations

import copy
import io
import shlex
import tempfile
import warnings
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from compliance_mia.api._progress import ProgressLike, make_progress
from compliance_mia.api._result import Assessment

__all__ = ["assess", "check_policy", "load_policy", "run"]

_ROLES = ("members", "non_members", "population")
_ID_PREFIX = {"members": "M", "non_members": "N", "population": "P"}


def load_policy(path: str | Path) -> Any:
    """Read and check a policy YAML file, as ``compliance-mia validate`` does.

    ``builtin:`` paths (the built-in example's files) are generated on first
    use. Raises :class:`~compliance_mia.errors.PolicyError` listing every
    problem with file, line and field.

    Parameters
    ----------
    path
        The policy YAML file.

    Returns
    -------
    Policy
        The frozen, validated policy.

    Examples
    --------
    >>> import compliance_mia
    >>> policy = compliance_mia.load_policy(example_policy)
    >>> policy.exposure.outputs
    'probabilities'
    """
    from compliance_mia.runner import load_policy as _load

    return _load(path, materialise_builtins=True)


def check_policy(policy: Any) -> Any:
    """Check a :class:`Policy` built in Python against the shipped data, as loading a file does.

    The schema is checked when the ``Policy`` is constructed; this adds the
    checks that need the risk matrix, the attack registry and the controls
    catalogue (scale and appetite names, attack names, framework ids).
    Raises :class:`~compliance_mia.errors.PolicyError`; returns the policy.
    """
    from compliance_mia.errors import PolicyError
    from compliance_mia.runner.policy_checks import CHECKS
    from compliance_mia.yamlio import LocatedYaml

    doc = LocatedYaml(data=policy.model_dump(mode="json", by_alias=True), file=None)  # type: ignore[arg-type]
    problems = [problem for check in CHECKS for problem in check(policy, doc)]
    if problems:
        raise PolicyError(problems)
    return policy


def run(
    policy: Any,
    *,
    progress: ProgressLike = "auto",
    policy_path: str | Path | None = None,
) -> Assessment:
    """Run the assessment a policy describes, as ``compliance-mia run`` does, without writing anything.

    Parameters
    ----------
    policy
        A :class:`Policy`, or the path of a policy YAML file.
    progress
        ``"auto"`` (a tqdm bar, in Jupyter a widget, when tqdm is installed),
        ``"tqdm"``, ``None`` (silent), a callable ``f(description, completed,
        total)`` or an object with ``stage(description, total)`` and
        ``advance(amount)``.
    policy_path
        The file the policy was read from, recorded (with its hash) in the
        evidence; set automatically when ``policy`` is a path.

    Returns
    -------
    Assessment
        The assessment; ``.save(folder)`` writes every format.
    """
    if isinstance(policy, (str, Path)):
        policy_path = Path(policy)
        policy = load_policy(policy_path)
    else:
        check_policy(policy)
        _materialise_builtins(policy)
    return _run(policy, progress=progress, policy_path=policy_path, command=_command("run", policy_path))


def _run(policy: Any, *, progress: ProgressLike, policy_path: str | Path | None, command: str) -> Assessment:
    from compliance_mia.runner import run_assessment

    reporter = make_progress(progress)
    try:
        core = run_assessment(
            policy,
            policy_path=Path(policy_path) if policy_path is not None else None,
            progress=reporter,
            command=command,
        )
    finally:
        reporter.close()
    return Assessment._wrap(core, template_dir=policy.report.template_dir, logo=policy.report.logo)


def assess(
    model: Any,
    members: Any,
    non_members: Any,
    *,
    population: Any = None,
    labels: Sequence[Any] | None = None,
    exposure: str | Mapping[str, Any] = "probabilities",
    access: str = "public",
    label_column: str = "label",
    id_column: str = "record_id",
    categories: Sequence[str] = ("ordinary_personal",),
    regulations: Sequence[str] = ("gdpr",),
    data_subjects: int | None = None,
    reference_models: int | None = None,
    seed: int = 0,
    backend: str | None = None,
    name: str = "Unnamed model",
    owner: str = "unspecified",
    progress: ProgressLike = "auto",
    keep_inputs: str | Path | None = None,
    **options: Any,
) -> Assessment:
    """Assess the membership inference risk of a fitted classifier held in memory.

    The model and the records are written to a private temporary folder
    (skops and Parquet) with a policy describing them, then run through the
    same loader and runner as ``compliance-mia run``: same inputs and seed,
    same ``assessment.json`` (apart from timestamps, the command and file
    names).

    Parameters
    ----------
    model
        A fitted scikit-learn-compatible classifier or Pipeline (anything
        skops can save) with ``predict_proba`` or ``predict``.
    members, non_members, population
        The records the model was trained on, records of the same population
        it never saw, and optional further unseen records (the attacker's
        background data; without them a share of the non-members is set
        aside). Each is a pandas DataFrame holding ``label_column`` (and
        ``id_column``, generated when absent), a numpy array or DataFrame of
        features with the labels in ``labels``, or a tuple ``(X, y)``. When
        the model was fitted on named columns (``feature_names_in_``), those
        are its inputs and other columns are ignored, unless ``data=`` names
        ``feature_columns`` or ``exclude_columns``.
    labels
        With array inputs: ``(y_members, y_non_members[, y_population])``.
    exposure
        What the deployed model returns: ``"label"``, ``"probabilities"``,
        ``"logits"``, ``"loss"`` or ``"top_k"``; or the policy's whole
        ``exposure`` mapping, e.g. ``{"outputs": "top_k", "top_k": 3,
        "rounding": 2}``.
    access
        Who can query it: ``"public"``, ``"authenticated"`` or ``"internal"``.
    label_column, id_column
        Column names of the label and of a stable record ID (reports name
        records only by ID). IDs are generated (``M00000``, ``N00000``,
        ``P00000``) when the frames have no such column.
    categories
        What the records reveal (policy ``data.categories``), e.g.
        ``["health", "phi"]``; drives severity. Default: ordinary personal data.
    regulations
        Frameworks in scope (ids of the controls catalogue), e.g. ``["gdpr", "hipaa"]``.
    data_subjects
        People whose data trained the model; default: the number of members.
    reference_models
        Reference models the attacker trains (policy ``attacks.reference_models.count``).
    seed
        The one seed behind every random choice.
    backend
        Reference-model backend: ``loky``, ``threading``, ``sequential``, ``dask`` or ``ray``.
    name, owner
        The system's name and accountable owner, for the report.
    progress
        ``"auto"``, ``"tqdm"``, ``None``, a callable or a Progress object (see :func:`run`).
    keep_inputs
        A folder to keep the files written for the run (data, model.skops,
        policy.yaml), so ``compliance-mia run FOLDER/policy.yaml`` reproduces
        the assessment; by default they are deleted.
    **options
        Any other policy section or field, merged over what the arguments
        build: ``system={...}``, ``attacks={"select": [...]}``,
        ``statistics={...}``, ``risk={"appetite": "limited"}``,
        ``controls={...}``, ``signoff={...}``, ``report={...}``,
        ``data={"slice_columns": [...]}``, ``model={"classes": [...]}``.

    Returns
    -------
    Assessment
        The assessment: ``.summary()``, ``.to_pdf(path)``, ``.save(folder)``.

    Raises
    ------
    compliance_mia.errors.ComplianceMiaError
        A problem with the inputs (policy values, data, model), with the
        field and what is accepted.

    Examples
    --------
    >>> import compliance_mia
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> X, y = make_classification(n_samples=400, n_features=6, random_state=0)
    >>> model = DecisionTreeClassifier(random_state=0).fit(X[:200], y[:200])
    >>> result = compliance_mia.assess(
    ...     model, X[:200], X[200:], labels=(y[:200], y[200:]),
    ...     attacks={"select": ["loss"]}, progress=None,
    ... )
    >>> result.headline.strongest_attack
    'loss'
    >>> result.risk.level in result.risk.levels
    True
    """
    import pandas as pd

    from compliance_mia.errors import PolicyError, Problem

    frames = _frames(members, non_members, population, labels=labels, label_column=label_column, id_column=id_column)
    if isinstance(exposure, str):
        exposure_spec: dict[str, Any] = {"outputs": exposure}
    else:
        exposure_spec = dict(exposure)
    exposure_spec.setdefault("access", access)
    policy: dict[str, Any] = {
        "policy_version": 1,
        "system": {"name": name, "owner": owner, "assessment_type": "ad-hoc"},
        "model": {"format": "skops", "artifact": "model.skops"},
        "data": {
            "members": "members.parquet",
            "non_members": "non_members.parquet",
            "id_column": id_column,
            "label_column": label_column,
            "categories": list(categories),
            "data_subjects": int(data_subjects if data_subjects is not None else len(frames["members"])),
        },
        "exposure": exposure_spec,
        "regulations": list(regulations),
        "seed": int(seed),
    }
    if "population" in frames:
        policy["data"]["population"] = "population.parquet"
    reference: dict[str, Any] = {}
    if reference_models is not None:
        reference["count"] = int(reference_models)
    if backend is not None:
        reference["backend"] = backend
    if reference:
        policy["attacks"] = {"reference_models": reference}
    policy = _merge(policy, options)
    data_spec = policy["data"]
    names = getattr(model, "feature_names_in_", None)
    if names is not None and "feature_columns" not in data_spec and "exclude_columns" not in data_spec:
        # fitted on named columns: those are the inputs, in model order; other columns are not
        data_spec["feature_columns"] = [str(n) for n in names]

    model_bytes = _skops_bytes(model)
    trusted = _own_types(model_bytes)
    if trusted:
        policy["model"] = {
            **policy["model"],
            "trusted_types": sorted(set(policy["model"].get("trusted_types", [])) | set(trusted)),
        }

    with tempfile.TemporaryDirectory(prefix="compliance-mia-") as tmp:
        folder = Path(keep_inputs) if keep_inputs is not None else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for role, frame in frames.items():
            pd.DataFrame(frame).to_parquet(folder / f"{role}.parquet", index=False)
        (folder / "model.skops").write_bytes(model_bytes)
        policy_file = folder / "policy.yaml"
        policy_file.write_text(_policy_yaml(policy), encoding="utf-8")
        try:
            loaded = load_policy(policy_file)
        except PolicyError as exc:  # the YAML is ours, not the caller's: name the field, not a temp file's line
            raise PolicyError([Problem(p.message, field=p.field) for p in exc.problems]) from None
        with warnings.catch_warnings():
            if not hasattr(model, "feature_names_in_"):  # fitted on arrays; the engine passes named columns
                warnings.filterwarnings("ignore", message="X has feature names", category=UserWarning)
            return _run(loaded, progress=progress, policy_path=policy_file, command=_command("assess", None))


# ------------------------------------------------------------------ helpers
def _frames(
    members: Any, non_members: Any, population: Any, *, labels: Sequence[Any] | None, label_column: str, id_column: str
) -> dict[str, Any]:
    import numpy as np
    import pandas as pd

    given = {"members": members, "non_members": non_members, "population": population}
    if labels is not None and len(labels) not in (2, 3):
        raise ValueError("labels: give (y_members, y_non_members) or (y_members, y_non_members, y_population)")
    out: dict[str, pd.DataFrame] = {}
    n_features: int | None = None
    for i, role in enumerate(_ROLES):
        value = given[role]
        if value is None:
            continue
        y = None
        if isinstance(value, tuple):
            if len(value) != 2:
                raise ValueError(f"{role}: a tuple must be (X, y)")
            value, y = value
        elif labels is not None and i < len(labels):
            y = labels[i]
        if isinstance(value, pd.DataFrame):
            frame = value.copy()
        else:
            array = np.asarray(value)
            if array.ndim != 2:
                raise ValueError(f"{role}: expected a 2-D array or a DataFrame, got shape {array.shape}")
            if n_features is not None and array.shape[1] != n_features:
                raise ValueError(f"{role}: {array.shape[1]} features, the members have {n_features}")
            n_features = array.shape[1]
            frame = pd.DataFrame(array, columns=[f"x{j}" for j in range(array.shape[1])])
        if y is not None:
            y = np.asarray(y)
            if len(y) != len(frame):
                raise ValueError(f"{role}: {len(frame)} records but {len(y)} labels")
            if label_column in frame.columns:
                raise ValueError(f"{role}: labels given but the frame already has a '{label_column}' column")
            frame[label_column] = y
        elif label_column not in frame.columns:
            raise ValueError(
                f"{role}: no '{label_column}' column; name the label column with label_column=..., "
                "or give the labels with labels=(y_members, y_non_members[, y_population])"
            )
        if id_column not in frame.columns:
            frame.insert(0, id_column, [f"{_ID_PREFIX[role]}{j:05d}" for j in range(len(frame))])
        out[role] = frame.reset_index(drop=True)
    return out


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """``extra`` over ``base``, mappings merged key by key (lists and values replaced)."""
    merged = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _skops_bytes(model: Any) -> bytes:
    """The model saved with skops, zip entries stamped with a fixed time so equal models give equal bytes."""
    import skops.io as sio

    from compliance_mia.errors import InputError

    try:
        raw = sio.dumps(model)
    except Exception as exc:  # skops refuses objects it cannot represent
        raise InputError(
            f"the model cannot be saved with skops ({type(exc).__name__}); save it yourself in a format "
            "compliance-mia reads (docs/targets.md) and run a policy with compliance_mia.run"
        ) from None
    return _canonical_skops(raw)


def _canonical_skops(raw: bytes) -> bytes:
    """A skops file rewritten so that equal models give equal bytes.

    skops names each stored array after the Python ``id`` of the object and
    stamps zip entries with the current time; here entries are renamed by
    their order of first mention in ``schema.json`` and stamped with a fixed
    time. The loader reads the renamed file exactly as the original.
    """
    import re

    with zipfile.ZipFile(io.BytesIO(raw)) as source:
        contents = {info.filename: (info, source.read(info.filename)) for info in source.infolist()}
    schema = contents.get("schema.json", (None, b""))[1].decode("utf-8")
    others = [name for name in contents if name != "schema.json"]
    order = {name: schema.find(f'"{name}"') for name in others}
    if any(pos < 0 for pos in order.values()):  # an entry the schema does not name: keep names, fix times only
        renamed = {name: name for name in contents}
    else:
        ranked = sorted(others, key=order.__getitem__)
        renamed = {name: f"{i}{Path(name).suffix}" for i, name in enumerate(ranked)}
        renamed["schema.json"] = "schema.json"
        if renamed:
            pattern = re.compile("|".join(re.escape(f'"{name}"') for name in ranked)) if ranked else None
            if pattern is not None:
                schema = pattern.sub(lambda m: f'"{renamed[m.group(0)[1:-1]]}"', schema)
        ids: dict[str, str] = {}  # object ids (shared references) renumbered by first appearance
        schema = re.sub(
            r'"__id__": (\d+)', lambda m: f'"__id__": {ids.setdefault(m.group(1), str(len(ids) + 1))}', schema
        )
        contents["schema.json"] = (contents["schema.json"][0], schema.encode("utf-8"))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dest:
        for name in sorted(contents, key=lambda n: (n != "schema.json", renamed[n])):
            info, data = contents[name]
            stamped = zipfile.ZipInfo(renamed[name], date_time=(1980, 1, 1, 0, 0, 0))
            stamped.compress_type = info.compress_type
            stamped.external_attr = info.external_attr
            dest.writestr(stamped, data)
    return out.getvalue()


def _own_types(model_bytes: bytes) -> list[str]:
    """Types skops would ask to trust: the file was written here from the caller's own object."""
    import skops.io as sio

    return list(sio.get_untrusted_types(data=model_bytes))


def _policy_yaml(policy: Mapping[str, Any]) -> str:
    import yaml

    header = (
        "# Written by compliance_mia.assess(): the policy the assessment ran with.\n"
        "# Re-run it with: compliance-mia run policy.yaml\n"
    )
    return header + yaml.safe_dump(_plain(policy), sort_keys=False, allow_unicode=True)


def _plain(value: Any) -> Any:
    """Policy values as YAML-safe plain types (numpy scalars, paths, tuples, dates)."""
    import datetime as dt

    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return value.item()
    return value


def _materialise_builtins(policy: Any) -> None:
    """Generate the built-in example's files when a Policy built in Python names them."""
    from compliance_mia.cache import builtin_inputs_dir

    root = builtin_inputs_dir("health-insurance").resolve()
    paths = [policy.model.artifact, policy.data.members, policy.data.non_members, policy.data.population]
    if any(p is not None and Path(p).resolve().is_relative_to(root) for p in paths):
        from compliance_mia.demo import ensure_builtin_inputs

        ensure_builtin_inputs()


def _command(kind: str, policy_path: str | Path | None) -> str:
    if kind == "assess":
        return "compliance_mia.assess(...)"
    if policy_path is None:
        return "compliance_mia.run(policy)"
    return f"compliance_mia.run({shlex.quote(str(policy_path))})"
