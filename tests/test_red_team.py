"""The red team: a class of attackers between two honest students, graded for real.

Every attack in tests/red_team/ (an answer file each) and the notebook-level attacks of
tests/red_team_class.py are graded in the class that `coursepack.classgrade` grades with two
workers (tests/graded_classes.py); the attacks on the grading run itself (signals, daemons, the
gradebook, the next kernel of the slot, the grader's channels and memory) are graded again by
the real `nbgrader autograde`, serially. For each attacker: the attacked function earns nothing;
the honest students' grades are exactly full marks, the same both ways; the run completes; no
process of the sandbox survives; nothing of the course changed (hashed); no reference code or
hidden check reaches a graded notebook or a feedback page.
"""

import html
import re

import nbformat
import pytest
from graded_classes import SHARED_CLASSES, course_changes
from red_team_class import (
    ATTACKED,
    BY_COMMAND_LINE,
    FORGED_NOTICE,
    HONEST,
    NOTEBOOK_ATTACKS,
    SECRETS,
)

from coursepack import checks
from coursepack.checks import GRADED_FUNCTIONS

pytestmark = pytest.mark.slow

AUTO_PARTS = GRADED_FUNCTIONS


@pytest.fixture(params=list(SHARED_CLASSES))
def graded(request):
    """Each shared class in turn (tests/conftest.py): only the one a test asks for is graded."""
    return request.getfixturevalue(SHARED_CLASSES[request.param])


def test_every_submission_was_graded(graded):
    for student in graded.students:
        assert student in graded.scores, student
        assert graded.notebook(student).exists(), student


def test_honest_students_get_full_marks(graded):
    for student in HONEST:
        assert [p for p in AUTO_PARTS if not graded.full_marks(student, p)] == [], student
        assert graded.record(student)["flags"] == [], student


# A firstNN that never learns keeps the contract's credit for the shape of its loop (one call
# per row and epoch, shuffled rows, a sigmoid hidden value) and earns nothing that needs learning.
LEARNS_NOTHING = {
    "labels_as_predictions": (
        "firstNN updates every weight after each row",
        "firstNN's predictions come from its weights, in row order",
    ),
    "side_kernel_leak": ("firstNN's predictions come from its weights, in row order",),
    "ties_as_predictions": ("firstNN updates every weight after each row",),
    "weights_by_other_means": ("firstNN updates every weight after each row",),
}


@pytest.mark.parametrize("attack", sorted(ATTACKED))
def test_the_attacked_function_earns_nothing(graded, attack):
    if attack not in graded.students:
        pytest.skip("graded by classgrade only")
    if attack in LEARNS_NOTHING:
        verdicts = {v["suite"]: v for v in graded.record(attack)["verdicts"]}
        assert verdicts["firstNN_accuracy"]["earned"] == 0
        contract = verdicts["firstNN_contract"]["checks"]
        failed = {check["description"] for check in contract if not check["passed"]}
        assert failed >= set(LEARNS_NOTHING[attack])
        return
    assert graded.points(attack, ATTACKED[attack]) == 0


@pytest.mark.parametrize("attack", sorted(NOTEBOOK_ATTACKS))
def test_grader_attacks_gain_nothing(graded, attack):
    if attack not in graded.students:
        pytest.skip("graded by classgrade only")
    stubbed = NOTEBOOK_ATTACKS[attack]
    for part in AUTO_PARTS:
        if part in stubbed:
            assert graded.points(attack, part) == 0, part
        else:
            assert graded.full_marks(attack, part), part


def test_the_course_did_not_change(graded):
    assert course_changes(graded.course, graded.hash_before) == []


def test_no_process_survives_grading(graded):
    assert graded.slots  # the kernels ran in sandbox slots, whose users now run nothing
    assert graded.survivors == []


def test_no_secret_reaches_a_graded_notebook_or_feedback(graded):
    # What a student may get back: graded notebooks and feedback (the grading record and logs
    # stay with the instructor).
    home = graded.course.home
    places = [p for p in (home / "autograded").rglob("*") if "grading_" not in str(p)]
    places += list((home / "feedback").rglob("*"))
    assert places
    for path in places:
        if path.is_file():
            text = path.read_bytes().decode("utf-8", "replace")
            if path.suffix == ".html":  # the page as read: &#39; is an apostrophe
                text = html.unescape(text)
            for secret in SECRETS:
                assert secret not in text, (path, secret)
    assert not list((home / "feedback").rglob("leak.txt"))
    assert not list((home / "autograded").rglob("leak.txt"))


def test_the_history_probe_finds_nothing(by_classgrade):
    graded = by_classgrade
    notebook = nbformat.read(graded.notebook("history_probe"), as_version=4)
    printed = "".join(o.get("text", "") for o in notebook.cells[-1].get("outputs", []))
    assert "FOUND: []" in printed


@pytest.mark.parametrize("attack", ["side_kernel_leak", "side_channel_text"])
def test_side_kernel_verdicts_carry_no_word_of_the_students(by_classgrade, attack):
    """firstNN ran beside the reference's code: whatever its code sent (shapes, a forged message
    length, exception text), its verdicts say only that checks failed or gave no result."""
    verdicts = [v for v in by_classgrade.record(attack)["verdicts"] if v["function"] == "firstNN"]
    said = [v["reason"] for v in verdicts if v["status"] != "judged"]
    said += [c["message"] for v in verdicts for c in v["checks"] if c["message"]]
    assert said
    head, tail = checks.SIDE_KERNEL_FAILED.split("{names}")
    for text in said:
        assert "details withheld" in text or (text.startswith(head) and text.endswith(tail)), text
    assert not any(re.search(r"\(0, \d|\d{6,}", text) for text in said)


def test_forged_notices_are_dropped(by_classgrade):
    record = by_classgrade.record("notice_forger")
    assert not any(FORGED_NOTICE in notice for notice in record["notices"])
    assert all(len(notice) < 1000 for notice in record["notices"])


@pytest.mark.parametrize("flood", ["output_flood", "field_flood"])
def test_output_floods_are_cut(by_classgrade, flood):
    """Megabytes printed, or hidden in an output's other fields: the notebook keeps 2 MiB."""
    path = by_classgrade.notebook(flood)
    assert path.stat().st_size < 3 * 1024**2
    assert "output truncated" in path.read_text()


def test_a_planted_output_counter_buys_no_room(by_classgrade):
    notebook = nbformat.read(by_classgrade.notebook("planted_counter"), as_version=4)
    printed = sum(len(o.get("text", "")) for o in notebook.cells[-1].get("outputs", []))
    assert printed <= 129 * 1024
    assert "output truncated" in "".join(o.get("text", "") for o in notebook.cells[-1].outputs)


def test_names_of_megabytes_reach_no_page(by_classgrade):
    """Verdicts quote the names of returned types and raised exceptions: 200 characters at most."""
    for path in (
        by_classgrade.notebook("name_bloat"),
        by_classgrade.course.notebook("feedback", "name_bloat").with_suffix(".html"),
    ):
        assert path.stat().st_size < 3 * 1024**2, path
        assert "R" * 300 not in path.read_text() and "E" * 300 not in path.read_text()


def test_both_ways_give_the_same_grades(by_classgrade, by_command_line):
    """Honest students alike, attacked functions nothing, both ways (attacks that race their own
    probes, like the daemons, may cost them other points differently from run to run). Its own
    lane's class first: by then the other lane has graded the command-line class (once for all
    workers, graded_once)."""
    for student in HONEST:
        assert by_command_line.scores[student] == by_classgrade.scores[student]
    for student in BY_COMMAND_LINE:
        if student in ATTACKED and student in by_classgrade.students:
            part = ATTACKED[student]
            both = (by_command_line.points(student, part), by_classgrade.points(student, part))
            assert both == (0, 0), student


def test_a_script_in_a_written_answer_does_not_run_in_the_feedback_page(by_classgrade):
    """Opened in Chromium, the feedback page of a reflection with a <script> and an onerror=
    handler: both are gone from the page (sanitized), and its content security policy would
    keep them inert."""
    from browser_check import check_page

    page = by_classgrade.course.notebook("feedback", "markdown_script").with_suffix(".html")
    text = page.read_text()
    assert "Learning rates matter." in text  # the student's words are there...
    assert "onerror=" not in text and "document.title = 'ran'" not in text  # ...the code is not
    seen = check_page(page)
    assert seen.title != "ran" and "ran" not in seen.marks


def test_a_report_card_of_the_students_own_neither_hides_the_real_one_nor_moves_the_page(
    by_classgrade,
):
    """The student's HTML (written answer, an edited lab cell, HTML and Markdown outputs) draws a
    31 / 31 card, hides the real one with a style, and refreshes to another site: in Chromium the
    page shows one report card, the real one, at the top, and stays where it is."""
    from browser_check import check_page

    page = by_classgrade.course.notebook("feedback", "forged_card").with_suffix(".html")
    text = page.read_text()
    body = text.split("Your notebook, as it was graded", 1)[1]
    assert "<style" not in body and "<meta" not in body  # (the code shows them as text)
    assert not re.search(r"<[a-z]+ [^>]*lab21-report", body)
    seen = check_page(page, linger=2.5)
    assert seen.url == page.resolve().as_uri()
    (card,) = seen.cards
    assert card["width"] > 0 and card["height"] > 0 and card["top"] < 200
    assert card["uncovered"], card  # what the reader sees at its total is the total itself
    assert card["total"].startswith("Score: 28 / 31 (Part I"), card  # Part I waits for a person
