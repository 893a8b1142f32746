"""The entry point of the hidden test cells: `grade(suite, globals(), points)`.

Run as it is (the master notebook in JupyterLab, or any plain kernel), it runs the suite's
checks on the student's function in the same process, with the reference versions of the
functions it depends on, and judges the facts there. During autograde the course's Execute step
(coursepack.guarded_execute) never runs this cell: the checks go to the probe agent in the
sandboxed kernel and the verdict is given outside it, by the same code in `checks`.
"""

import re

from coursepack.checks import SUITES, build_checks, judge_suite, report_lines
from coursepack.probe_agent import run_in_process
from coursepack.probing import restore_facts
from coursepack.reference import define_functions, dependency_source, load_reference

# How a hidden test cell calls grade(): the course's Execute step and the notebook lint read it.
HIDDEN_CALL = re.compile(r'^grade\("(\w+)", globals\(\), points=([\d.]+)\)\s*$', re.MULTILINE)


def grade(suite, namespace, points):
    """Run and judge one suite; print what failed and return the points earned."""
    reference = load_reference()
    function, _, names = SUITES[suite]
    student = namespace.get(function)
    if not callable(student):
        observation = {"missing": function}
    else:
        lent = define_functions(dependency_source(names, reference), names)
        requests = [check.request for check in build_checks(suite)]
        observation = {"facts": restore_facts(run_in_process(student, requests, lent))}
    verdict = judge_suite(suite, observation, points, reference)
    print("\n".join(report_lines(verdict)))
    return verdict["earned"]
