"""The data set: reproducible, the same everywhere it is shipped, learnable but not by luck."""

import random

import numpy as np

from coursepack.course import repo_course
from coursepack.dataset import CSV_PATH, make_rows, to_csv
from coursepack.reference import load_reference

REF = load_reference()


def test_the_committed_csv_is_what_the_seeded_script_writes():
    assert CSV_PATH.read_text() == to_csv(make_rows())


def test_the_source_and_the_release_ship_the_same_file():
    for step in ("source", "release"):
        shipped = repo_course().folder(step) / "lab14data.csv"
        assert shipped.read_text() == CSV_PATH.read_text()


def test_the_shape_the_lab_expects():
    data = np.genfromtxt(CSV_PATH, delimiter=",", skip_header=1)
    assert data.shape == (200, 3)
    assert sorted(np.unique(data[:, -1])) == [0.0, 1.0]
    assert np.mean(data[:, -1]) == 0.5


def test_trained_networks_pass_and_untrained_ones_cannot():
    """A network that never learns draws a random line through the origin: on this data it
    often scores well by luck (either way round), so the hidden tests also train on the same
    points with the labels swapped. Untrained, the two scores add up to exactly 1, so it cannot
    pass both; trained, it passes both."""
    data = np.genfromtxt(CSV_PATH, delimiter=",", skip_header=1)
    swapped = data.copy()
    swapped[:, -1] = 1 - swapped[:, -1]
    lucky_scores = []
    for seed in range(20):
        scores = {}
        for epochs in (0, 10):
            for name, rows in (("data", data), ("swapped", swapped)):
                np.random.seed(seed)
                random.seed(seed)
                scores[epochs, name] = np.mean(REF.firstNN(rows, epochs)[2] == rows[:, -1])
        assert scores[0, "data"] + scores[0, "swapped"] == 1
        assert min(scores[10, "data"], scores[10, "swapped"]) >= 0.95
        lucky_scores.append(scores[0, "data"])
    assert 0.3 < np.mean(lucky_scores) < 0.7  # no direction is favoured before training
