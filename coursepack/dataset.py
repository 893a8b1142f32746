"""Make lab14data.csv, the two-class data set that Lab 21's network learns (see data/README.md).

`python -m coursepack.dataset` rewrites data/lab14data.csv. The seed makes the file
reproducible byte for byte; a test checks the committed file against a fresh run. The hidden
tests call make_rows with other seeds and feature counts, so no student can learn the answers.
"""

import numpy as np

from coursepack import COURSE_ROOT

SEED = 14
ROWS_PER_CLASS = 100
SPREAD = 0.5
CSV_PATH = COURSE_ROOT / "data" / "lab14data.csv"


def make_rows(seed=SEED, n_features=2, rows_per_class=ROWS_PER_CLASS):
    """Two Gaussian blobs on either side of the origin, shuffled; the label is the last column.

    Class 1 is centred on (+1, -1, +1, ...) and class 0 on the opposite point, so a boundary
    through the origin (all this bias-free network can draw) separates them, while the
    starting weights of an untrained network usually do not.
    """
    rng = np.random.default_rng(seed)
    centre = np.where(np.arange(n_features) % 2 == 0, 1.0, -1.0)
    blocks = [
        np.column_stack(
            [
                rng.normal(sign * centre, SPREAD, size=(rows_per_class, n_features)),
                np.full(rows_per_class, label),
            ]
        )
        for label, sign in ((0, -1.0), (1, 1.0))
    ]
    rows = np.vstack(blocks)
    return rows[rng.permutation(len(rows))]


def to_csv(rows):
    n_features = rows.shape[1] - 1
    header = ",".join([f"x{i + 1}" for i in range(n_features)] + ["label"])
    lines = [header] + [
        ",".join([f"{value:.4f}" for value in row[:-1]] + [str(int(row[-1]))]) for row in rows
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    CSV_PATH.write_text(to_csv(make_rows()))
    print(f"wrote {CSV_PATH}")
