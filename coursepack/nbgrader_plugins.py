"""nbgrader preprocessors the course adds to autograding (wired in by nbgrader_config.py)."""

from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor


class StderrIsNotFailure(NbGraderPreprocessor):
    """Keep stderr text in graded cells, but as stdout, so that only an error costs points.

    nbgrader scores a test cell 0 when it printed anything on stderr, so a RuntimeWarning from
    a correct `1 / (1 + np.exp(-x))` at x = -1000, or a student's debug print to sys.stderr,
    would zero a right answer. A failed assertion or exception still scores 0.
    """

    def preprocess_cell(self, cell, resources, cell_index):
        if cell.cell_type == "code" and utils.is_grade(cell):
            for output in cell.outputs:
                if output.output_type == "stream" and output.name == "stderr":
                    output.name = "stdout"
        return cell, resources


class KeepManualScores(NbGraderPreprocessor):
    """After SaveAutoGrades: put back any manual score or extra credit that changed while the
    submission was graded, and flag it (coursepack.manual_scores). Last in the autograde list,
    so that nothing after it writes the gradebook."""

    def preprocess(self, nb, resources):
        from coursepack import manual_scores
        from coursepack.course import Course
        from coursepack.guarded_execute import METADATA_KEY

        course = Course.of_configurable(self, resources["nbgrader"]["assignment"])
        flags = manual_scores.after_grading(course, resources["nbgrader"]["student"])
        if flags:
            record = nb.metadata.setdefault(METADATA_KEY, {"flags": [], "notices": []})
            record["flags"] = [*record.get("flags", []), *flags]
        return nb, resources
