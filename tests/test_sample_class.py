"""The bundled sample class, graded by the real `nbgrader autograde` and by classgrade: exactly
the expected scores both ways, and feedback that explains without leaking."""

import pytest
from graded_classes import SHARED_CLASSES

pytestmark = pytest.mark.slow  # grades for real (make test-fast leaves it out)

# student -> {part: points}; parts not listed earn full marks. "reflection" is the written answer.
EXPECTED = {
    "ada_perfect": {"reflection": "manual"},
    "ben_untouched": {
        part: 0
        for part in (
            "sigmoid", "ReLU", "feed_forward", "sigmoid_perceptron", "lead_coef",
            "hidden_weight_update", "input_hidden_weight_update", "parameters_per_step",
            "firstNN", "reflection",
        )
    },
    # A textbook sigmoid (right, with overflow warnings), lead_coef of the output, the handout's
    # sign: lead_coef, firstNN's accuracy (5 of its 8 points) and the contract's check that
    # the weights move by the learning rule (3/8 of a point) go, nothing else.
    "cleo_typical": {"lead_coef": 0, "firstNN": 2.62, "reflection": "manual"},
    # ReLU edits its input; firstNN thresholds at 0.5 (one of 8 contract checks, and accuracy).
    "dev_handout": {"ReLU": 0, "firstNN": 2.62, "reflection": "manual"},
    # math.exp: right on numbers (4 of 8 sigmoid checks), wrong on arrays; stopped after Part C.
    "eve_halfway": {
        "sigmoid": 1.5, "sigmoid_perceptron": 0, "lead_coef": 0, "hidden_weight_update": 0,
        "input_hidden_weight_update": 0, "parameters_per_step": 0, "firstNN": 0, "reflection": 0,
    },
}  # fmt: skip


@pytest.fixture(params=list(SHARED_CLASSES))
def graded(request):
    """Each shared class in turn (tests/conftest.py): only the one a test asks for is graded."""
    return request.getfixturevalue(SHARED_CLASSES[request.param])


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_each_student_gets_exactly_the_expected_scores(graded, student):
    got = {}
    for part, (score, max_score, manual) in graded.scores[student].items():
        if manual:
            got[part] = "manual"
        elif score != max_score:
            got[part] = score
    assert got == EXPECTED[student]


def test_feedback_explains_each_failed_check(graded):
    html = graded.feedback("cleo_typical")
    assert "lead_coef: 0 of 7 hidden checks passed" in html
    assert "lead_coef(0) returned 0, expected 0.25" in html


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_feedback_never_shows_hidden_test_code(graded, student):
    html = graded.feedback(student)
    for secret in ("BEGIN HIDDEN TESTS", "coursepack", "_lab21_probe", "lab21_reference"):
        assert secret not in html


def test_the_class_report_of_a_class_graded_by_nbgrader_alone(by_command_line):
    """No grading record (plain `nbgrader autograde`): the report has scores, no times."""
    from coursepack.report import write_report

    page = write_report(by_command_line.course).read_text()
    assert "ada_perfect" in page and "Grading time per submission (one worker)" not in page
