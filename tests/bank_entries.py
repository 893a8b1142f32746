"""The mistake bank: one answer file per implementation of one graded function.

tests/mistake_bank/<function>/<name>.py is an answer file (format in coursepack/submissions.py)
that starts from the instructor's answers and replaces the one cell <function>. Its header says
what the hidden tests must make of it:

    # base: reference
    # expect: wrong        (or: correct)
    # why: one line on what this implementation does
    # %% lead_coef
    def lead_coef(val_fx):
        ...

A `wrong` entry must lose points on its own function and keep full marks everywhere else; a
`correct` entry must earn full marks on every automatically graded part.

An entry that the hidden tests get wrong today (a wrong one that keeps full marks, a correct one
that loses points) carries a line `# known gap: <why the checks get it wrong>`: the tests then
expect the wrong verdict, and fail once the hidden tests get it right, so that the line goes.
"""

import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from coursepack.checks import GRADED_FUNCTIONS
from coursepack.grade import MANUAL_PART
from coursepack.submissions import parse_answer_file

BANK_FOLDER = Path(__file__).resolve().parent / "mistake_bank"
EXPECTATIONS = ("wrong", "correct")


@dataclass(frozen=True)
class Entry:
    function: str
    name: str
    expect: str
    why: str
    path: Path
    known_gap: str | None = None

    @property
    def student_id(self):
        """A gradebook student id that names the entry (grade ids never contain '__')."""
        return f"{self.function}__{self.name}"

    @property
    def source(self):
        """The code of the entry's one answer cell."""
        return parse_answer_file(self.path.read_text())[1][self.function]


def header_fields(text):
    """{key: value} from the header's `# key: value` lines; a line `#   more` continues a value."""
    fields, key = {}, None
    for line in text.split("# %%", 1)[0].splitlines():
        field = re.match(r"^# ([a-z][a-z ]*): (.*)$", line)
        if field:
            key = field.group(1)
            fields[key] = field.group(2).strip()
        elif key and re.match(r"^#\s{2,}\S", line):
            fields[key] += " " + line[1:].strip()
        else:
            key = None
    return fields


def read_entry(path):
    text = path.read_text()
    fields = header_fields(text)
    expect, why, gap = fields.get("expect"), fields.get("why"), fields.get("known gap")
    base, answers = parse_answer_file(text)
    function = path.parent.name
    problems = []
    if base != "reference":
        problems.append("starts from '# base: release'; the bank needs '# base: reference'")
    if list(answers) != [function]:
        problems.append(f"must replace exactly the cell {function!r}, replaces {list(answers)}")
    if expect not in EXPECTATIONS:
        problems.append("needs a line '# expect: wrong' or '# expect: correct'")
    if not why:
        problems.append("needs a line '# why: <what this implementation does>'")
    if problems:
        raise ValueError(f"{path}: " + "; ".join(problems))
    return Entry(function, path.stem, expect, why, path, gap)


def bank_entries():
    """Every entry of the bank, sorted by function (in lab order) then name."""
    folders = sorted(BANK_FOLDER.iterdir())
    unknown = [f.name for f in folders if f.is_dir() and f.name not in GRADED_FUNCTIONS]
    if unknown:
        raise ValueError(f"mistake bank folders for no graded function: {unknown}")
    return [
        read_entry(path)
        for function in GRADED_FUNCTIONS
        for path in sorted((BANK_FOLDER / function).glob("*.py"))
    ]


def packs(entries):
    """The bank as a class of few submissions: submission k holds the k-th entry of each
    function, {student id: entries}. A function's checks lend the reference in place of any
    dependency that fails its own checks, so one function's mistake cannot cost another part
    points: the parts with no entry in a submission must keep full marks (`judge`)."""
    by_function = defaultdict(list)
    for entry in entries:
        by_function[entry.function].append(entry)
    groups = list(by_function.values())
    return {
        f"bank_{number:02d}": [group[number] for group in groups if len(group) > number]
        for number in range(max(map(len, groups)))
    }


@dataclass(frozen=True)
class Verdict:
    entry: Entry
    own_score: float
    own_max: float
    others_full: bool
    lost_elsewhere: tuple  # names of other parts below full marks
    right: bool


def judge(entry, scores, shared_with=()):
    """Compare the scores of an entry's submission with its expectation.

    scores: {part: (earned, possible)} for the automatically graded parts; shared_with: the
    other entries in the same submission (their parts are theirs to judge).
    """
    if entry.function not in scores:
        raise ValueError(f"{entry.student_id}: no score for {entry.function}")
    own_score, own_max = scores[entry.function]
    lost_elsewhere = tuple(
        part
        for part, (earned, possible) in scores.items()
        if part not in (entry.function, MANUAL_PART, *(other.function for other in shared_with))
        and earned < possible
    )
    own_full = own_score >= own_max
    if entry.expect == "wrong":
        right = not own_full and not lost_elsewhere
    else:
        right = own_full and not lost_elsewhere
    return Verdict(entry, own_score, own_max, not lost_elsewhere, lost_elsewhere, right)


def verdict_table(verdicts):
    """A plain-text table: one row per entry, and a summary line."""
    headers = ["entry", "function", "expect", "own points", "others full", "verdict right?"]
    rows = [
        [
            v.entry.name,
            v.entry.function,
            v.entry.expect,
            f"{v.own_score:g}/{v.own_max:g}",
            "yes" if v.others_full else "no: " + ", ".join(v.lost_elsewhere),
            ("yes" if v.right else "NO") + (" (known gap)" if v.entry.known_gap else ""),
        ]
        for v in verdicts
    ]
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]

    def line(cells):
        return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True))

    right = sum(v.right for v in verdicts)
    gaps = sum(bool(v.entry.known_gap) for v in verdicts)
    summary = f"{right} of {len(verdicts)} verdicts right; {gaps} known gap(s) in the hidden tests"
    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, rows), summary])


def unexpected(verdicts):
    """The verdicts that break the bank's expectations: a wrong verdict, or a known gap closed."""
    return [v for v in verdicts if v.right == bool(v.entry.known_gap)]
