"""Load the instructor's reference module from solutions/ (it is not an installed package)."""

import importlib.util

from coursepack import COURSE_ROOT

REFERENCE_PATH = COURSE_ROOT / "solutions" / "lab21_reference.py"


def load_reference():
    spec = importlib.util.spec_from_file_location("lab21_reference", REFERENCE_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
