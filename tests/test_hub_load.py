"""A class of ten under load on the real course hub (`make load-test` runs fifty).

hub/load_class.py starts a hub of its own with ngshare as the exchange; ten simulated students
(system users lab21-s01 ... lab21-s10) arrive within ten seconds, log in, start their servers,
fetch, run and submit the lab; the instructor collects and autogrades them all; the idle culler
stops the servers. The figures are printed (pytest -s shows them, and they are kept in
build/test-hub-load/); this test asserts the checks: every submission arrived once, was
collected as its author's, graded once with the score its answers deserve, every server culled.
"""

import json
import os
import subprocess

import pytest
from hub_term import REPO, course_hub

OUTPUT = REPO / "build" / "test-hub-load"
STUDENTS = 10

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        os.geteuid() != 0, reason="the course hub runs as root: it creates system users"
    ),
]


def test_a_class_of_ten_under_load():
    course_hub.setup(simulated_students=STUDENTS)  # the hub venv the load test runs in
    figures_file = OUTPUT / "figures.json"
    figures_file.unlink(missing_ok=True)
    done = subprocess.run(
        [
            str(course_hub.VENV_BIN / "python"),
            str(REPO / "hub" / "load_class.py"),
            f"--students={STUDENTS}",
            "--exchange=ngshare",
            "--arrival-window=10",
            "--idle-timeout=40",  # short: the test waits for the culler at the end
            f"--output={OUTPUT}",
            f"--json={figures_file}",
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    (OUTPUT / "summary.txt").write_text(done.stdout + done.stderr)
    print(done.stdout)
    assert figures_file.exists(), done.stdout + done.stderr[-3000:]
    figures = json.loads(figures_file.read_text())
    students = list(course_hub.load_students(STUDENTS))
    assert figures["problems"] == [], done.stdout
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    # The checks, spelled out: one submission each in the exchange, one gradebook row each,
    # every autograde done, every server culled, and figures for every student.
    assert figures["exchange_submissions"] == dict.fromkeys(students, 1)
    assert sorted(row["student"] for row in figures["gradebook"]) == students
    assert sorted(figures["autograde_calls"]) == students
    assert figures["culled"] == students
    for record in figures["records"]:
        for figure in ("server_start_s", "fetch_s", "run_s", "submit_s", "server_mb"):
            assert record[figure] > 0, record
