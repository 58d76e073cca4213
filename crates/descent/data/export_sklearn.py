"""Writes the small real data sets that ship with scikit-learn as CSV files beside this script.

These files are carried in the repository (`--data builtin:NAME` reads them with no network
and no Python). Rerun with `python3 crates/descent/data/export_sklearn.py` after
`pip install scikit-learn`; the output is deterministic.

- diabetes: 442 x 10 raw (unscaled) features, real target `progression`.
- breast_cancer: 569 x 30 features, binary target `benign` (scikit-learn's coding:
  1 = benign, 0 = malignant).
- iris: 150 x 4, classes 0..2 in `species`.
- wine: 178 x 13, classes 0..2 in `cultivar`.
"""

import csv
import os

from sklearn import datasets

HERE = os.path.dirname(os.path.abspath(__file__))


def write(name, bunch, target_name):
    path = os.path.join(HERE, f"{name}.csv")
    names = [str(n).replace(" (cm)", "_cm").replace(" ", "_") for n in bunch.feature_names]
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(names + [target_name])
        for row, y in zip(bunch.data, bunch.target):
            w.writerow([repr(float(v)) for v in row] + [repr(y.item())])
    print(path, bunch.data.shape)


write("diabetes", datasets.load_diabetes(scaled=False), "progression")
write("breast_cancer", datasets.load_breast_cancer(), "benign")
write("iris", datasets.load_iris(), "species")
write("wine", datasets.load_wine(), "cultivar")
