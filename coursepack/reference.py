"""The instructor's reference module in solutions/ (not an installed package), and pieces of it.

The hidden checks let a student's function call reference versions of the functions it
depends on. Those are rebuilt from source in a namespace of their own, holding only the
dependencies, so that no student code can reach the reference of the function being graded
through a dependency's __globals__.
"""

import importlib.util
import inspect

import numpy as np

from coursepack import COURSE_ROOT

REFERENCE_PATH = COURSE_ROOT / "solutions" / "lab21_reference.py"


def load_reference():
    spec = importlib.util.spec_from_file_location("lab21_reference", REFERENCE_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def dependency_source(names, reference=None):
    """The reference's source for just the functions `names`."""
    reference = reference or load_reference()
    return "\n\n".join(inspect.getsource(getattr(reference, name)) for name in names)


def define_functions(source, names):
    """Run `source` in a fresh namespace that has only numpy; return the functions `names`."""
    namespace = {"np": np}
    exec(compile(source, "<reference dependencies>", "exec"), namespace)
    return {name: namespace[name] for name in names}
