"""Tools that build, grade and report the Lab 21 course pack."""

from pathlib import Path

COURSE_ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENT = "lab21"
