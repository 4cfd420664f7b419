"""Build the small model and data files behind the target examples in this folder.

The examples (onnx-target.yaml, http-target.yaml, predictions-file.yaml,
pickle-trusted.yaml, blackbox-surrogate.yaml) all assess the *same* model,
reached in different ways, on the same records: a random forest trained on
200 records of scikit-learn's bundled breast-cancer data (Wisconsin
diagnostic; health data, so GDPR Art. 9). The files are small and committed
under target-demo/; run this script to rebuild them (same seed, same model)::

    python policies/examples/make_examples.py          # rebuild target-demo/

The HTTP example needs a prediction API to talk to. This script serves the
demo model on 127.0.0.1 (loopback only), checking the bearer credential when
COMPLIANCE_MIA_DEMO_API_KEY is set::

    export COMPLIANCE_MIA_DEMO_API_KEY=demo-secret
    python policies/examples/make_examples.py serve    # leave running, then:
    compliance-mia run policies/examples/http-target.yaml --out report-http/

Needs scikit-learn, skops and, for the ONNX file, skl2onnx
(``pip install -e ".[dev]"``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
DEMO_DIR = HERE / "target-demo"
SEED = 20240601
CLASSES = ["benign", "malignant"]
ID_COLUMN = "record_id"
LABEL_COLUMN = "diagnosis"
API_KEY_ENV = "COMPLIANCE_MIA_DEMO_API_KEY"
API_PATH = "/v1/predict"
DEFAULT_PORT = 8765
N_MEMBERS, N_NON_MEMBERS = 200, 200  # the remaining 169 records are the attacker's population


def demo_records(seed: int = SEED) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, list[str]]:
    """Members, non-members and population (disjoint, seeded) and the feature names."""
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer(as_frame=True)
    frame = bunch.frame.rename(columns=lambda c: c.replace(" ", "_"))
    features = [c for c in frame.columns if c != "target"]
    # sklearn codes 0 = malignant, 1 = benign
    frame[LABEL_COLUMN] = np.where(frame.pop("target") == 1, "benign", "malignant")
    frame.insert(0, ID_COLUMN, [f"P{i:04d}" for i in range(len(frame))])
    order = np.random.default_rng(seed).permutation(len(frame))
    members = frame.iloc[np.sort(order[:N_MEMBERS])]
    non_members = frame.iloc[np.sort(order[N_MEMBERS : N_MEMBERS + N_NON_MEMBERS])]
    population = frame.iloc[np.sort(order[N_MEMBERS + N_NON_MEMBERS :])]
    return members, non_members, population, features


def train_demo_model(members: pd.DataFrame, features: list[str]):
    """The model under assessment: a deliberately unregularised random forest (it overfits)."""
    from sklearn.ensemble import RandomForestClassifier

    model = RandomForestClassifier(n_estimators=30, random_state=0, n_jobs=1)
    return model.fit(members[features], members[LABEL_COLUMN])


def build(out: Path = DEMO_DIR, *, seed: int = SEED) -> dict[str, Path]:
    """Write every demo file into ``out``; returns them by name."""
    import joblib
    import skops.io as sio

    out.mkdir(parents=True, exist_ok=True)
    members, non_members, population, features = demo_records(seed)
    model = train_demo_model(members, features)
    files = {
        "members": out / "members.csv",
        "non_members": out / "non_members.csv",
        "population": out / "population.csv",
        "skops": out / "model.skops",
        "joblib": out / "model.joblib",
        "onnx": out / "model.onnx",
        "predictions": out / "predictions.csv",
    }
    members.to_csv(files["members"], index=False)
    non_members.to_csv(files["non_members"], index=False)
    population.to_csv(files["population"], index=False)
    sio.dump(model, files["skops"], compression=zipfile.ZIP_DEFLATED)
    joblib.dump(model, files["joblib"])
    files["onnx"].write_bytes(to_onnx_bytes(model, len(features)))

    # What the model's owner would export: ID, true label, exposed outputs.
    everyone = pd.concat([members, non_members, population], ignore_index=True)
    proba = model.predict_proba(everyone[features])
    predictions = pd.DataFrame(
        {
            ID_COLUMN: everyone[ID_COLUMN],
            LABEL_COLUMN: everyone[LABEL_COLUMN],
            "p_benign": proba[:, 0],
            "p_malignant": proba[:, 1],
            "predicted": model.classes_[proba.argmax(axis=1)],
        }
    )
    predictions.to_csv(files["predictions"], index=False)
    (out / "README.md").write_text(_README, encoding="utf-8")
    return files


_README = """\
# target-demo: files behind the target examples

Built by `python policies/examples/make_examples.py` (seeded; rebuilding gives
the same records, model and predictions, byte for byte except model.skops,
whose zip entries skops names after in-memory object ids). Used by onnx-target.yaml,
http-target.yaml, predictions-file.yaml, pickle-trusted.yaml and
blackbox-surrogate.yaml.

- members.csv (200), non_members.csv (200), population.csv (169): disjoint
  records, `record_id` + 30 measurements + `diagnosis`.
- model.skops / model.joblib / model.onnx: one random forest (30 trees,
  trained on members.csv) in three formats.
- predictions.csv: what the model returns for every record (ID, true
  diagnosis, `p_benign`, `p_malignant`, `predicted`).

Data: Breast Cancer Wisconsin (Diagnostic), W. H. Wolberg, W. N. Street and
O. L. Mangasarian, UCI Machine Learning Repository
(https://doi.org/10.24432/C5DW2B), licensed CC BY 4.0; read from the copy
bundled with scikit-learn (`sklearn.datasets.load_breast_cancer`). Record IDs,
the diagnosis labels' wording and the member/non-member split are ours.
"""


def to_onnx_bytes(model, n_features: int) -> bytes:
    """The model as ONNX (one float tensor of every feature, ZipMap probabilities)."""
    from skl2onnx import to_onnx

    sample = np.zeros((1, n_features), dtype=np.float32)
    return to_onnx(model, sample).SerializeToString()


# --------------------------------------------------------------------- demo API
def make_server(model, features: list[str], *, host: str = "127.0.0.1", port: int = DEFAULT_PORT,
                api_key: str | None = None) -> ThreadingHTTPServer:
    """A minimal prediction API in the shape http-target.yaml expects.

    Request: ``{"instances": [{feature: value, ...}, ...]}``. Answer:
    ``{"predictions": [{"label": ..., "probabilities": {class: p, ...}}, ...]}``.
    """
    classes = [str(c) for c in model.classes_]

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server naming
            if self.path != API_PATH:
                return self._reply(404, {"error": "not found"})
            if api_key and self.headers.get("Authorization") != f"Bearer {api_key}":
                return self._reply(401, {"error": "missing or wrong credential"})
            try:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length))
                frame = pd.DataFrame(body["instances"], columns=features)
            except (ValueError, KeyError, TypeError):
                return self._reply(400, {"error": "expected {instances: [{feature: value}]}"})
            proba = model.predict_proba(frame)
            answer = [
                {"label": classes[int(row.argmax())],
                 "probabilities": dict(zip(classes, map(float, row), strict=True))}
                for row in proba
            ]
            return self._reply(200, {"predictions": answer})

        def _reply(self, status: int, payload: dict) -> None:
            data = json.dumps(payload).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args) -> None:  # noqa: A002 - stdlib signature
            pass  # never echo requests (they carry records) to the terminal

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", nargs="?", choices=["build", "serve"], default="build")
    parser.add_argument("--out", type=Path, default=DEMO_DIR, help="where the demo files go")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port for 'serve'")
    args = parser.parse_args(argv)
    if args.command == "build":
        files = build(args.out)
        total = sum(p.stat().st_size for p in files.values())
        for name, path in files.items():
            print(f"{name:12s} {path.relative_to(HERE) if path.is_relative_to(HERE) else path}")
        print(f"{total / 1024:.0f} KiB in {len(files)} files")
        return 0
    from compliance_mia.targets.sklearn import load_skops

    skops_file = args.out / "model.skops"
    if not skops_file.exists():
        build(args.out)
    model = load_skops(skops_file)  # the tool's own loader: refuses untrusted types
    _, _, _, features = demo_records()
    key = os.environ.get(API_KEY_ENV)
    server = make_server(model, features, port=args.port, api_key=key)
    auth = f"requires the bearer credential in {API_KEY_ENV}" if key else "no credential required"
    print(f"demo prediction API on http://127.0.0.1:{args.port}{API_PATH} ({auth}); Ctrl-C ends")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
