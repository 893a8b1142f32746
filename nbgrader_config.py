"""nbgrader's configuration for the Lab 21 course (read by every `nbgrader` command run here)."""

from pathlib import Path

from coursepack.nbgrader_plugins import share_database_engines
from coursepack.preflight import pre_convert_hook

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)

# nbgrader makes a database engine per gradebook it opens, recompiling every query each time;
# one engine per database in each grading process is the same, and faster.
share_database_engines()

c.CourseDirectory.course_id = "lab21"
c.CourseDirectory.root = str(Path(__file__).resolve().parent)

# Before each submission is graded: repair what would stop nbgrader or grade it out of the
# release's order (a renamed notebook, broken JSON, lost or foreign nbgrader metadata, deleted,
# duplicated or moved cells), clear stale autograded scores and note the manual ones.
c.Autograde.pre_convert_hook = pre_convert_hook

# A test cell that runs longer than this is stopped and scores 0; later cells still run.
c.Execute.timeout = 60
c.Execute.interrupt_on_timeout = True

# nbgrader 0.9.6's list, with two changes: Execute guards the kernel, sends the hidden checks
# in and judges them outside (coursepack/guarded_execute.py); stderr from a correct answer (an
# overflow warning) costs no points, only errors do.
c.Autograde.autograde_preprocessors = [
    "coursepack.guarded_execute.GuardedExecute",
    "coursepack.nbgrader_plugins.StderrIsNotFailure",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "coursepack.nbgrader_plugins.CheckCellMetadata",
    # Manual scores stay the ones a person gave: any changed while grading is put back.
    "coursepack.nbgrader_plugins.KeepManualScores",
]
# nbgrader's own clean-up before grading, with the same faster metadata check.
c.Autograde.sanitize_preprocessors = [
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.DeduplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "nbgrader.preprocessors.OverwriteCells",
    "coursepack.nbgrader_plugins.CheckCellMetadata",
]

# Keep the grading record (flags, restarts) that GuardedExecute leaves in the notebook.
c.ClearMetadataPreprocessor.preserve_nb_metadata_mask = [("language_info", "name"), "lab21_grading"]

# Feedback: a report card first (each part, its points, the messages of the checks it missed),
# then the notebook as graded; each check's message, never the hidden tests' source. The page
# loads nothing from the internet (maths as MathML). See coursepack/feedback.py.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.ClearHiddenTests",
    "nbgrader.preprocessors.GetGrades",
    "coursepack.feedback.ReportCard",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
c.GenerateFeedback.exporter_class = "coursepack.feedback.FeedbackExporter"
# nbgrader (and formgrader) set HTMLExporter.template_name to its own "feedback" template; the
# subclass's own section outranks it.
c.FeedbackExporter.template_name = "lab21_feedback"
