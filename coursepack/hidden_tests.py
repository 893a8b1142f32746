"""The entry point of the hidden test cells: `grade(suite, globals(), points)`.

Run as it is (the master notebook in JupyterLab, or any plain kernel), it probes the student's
function and judges the facts in the same process. During autograde the course's Execute
preprocessor (coursepack.guarded_execute) replaces this call: the probe is sent into the
student's kernel and the verdict is given outside it, by the same code in `checks`.
"""

import json
import re

from coursepack.checks import SUITES, judge_suite, probe_suite, report_lines
from coursepack.reference import define_functions, dependency_source, load_reference

# How a hidden test cell calls grade(): the course's Execute step and the notebook lint read it.
HIDDEN_CALL = re.compile(r'^grade\("(\w+)", globals\(\), points=([\d.]+)\)\s*$', re.MULTILINE)


def grade(suite, namespace, points):
    """Probe and judge one suite; print what failed and return the points earned."""
    reference = load_reference()
    names = SUITES[suite][2]
    dependencies = define_functions(dependency_source(names, reference), names)
    observation = probe_suite(suite, namespace, dependencies)
    # The same JSON round trip as in the kernel path, so both paths judge identical facts.
    observation = json.loads(json.dumps(observation))
    verdict = judge_suite(suite, observation, points, reference)
    print("\n".join(report_lines(verdict)))
    return verdict["earned"]
