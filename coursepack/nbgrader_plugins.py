"""nbgrader preprocessors the course adds to autograding (wired in by nbgrader_config.py)."""

import json

import jsonschema
from nbgrader import preprocessors as nbgrader_preprocessors
from nbgrader import utils
from nbgrader.nbgraderformat import common as nbgraderformat_common
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


class CheckCellMetadata(nbgrader_preprocessors.CheckCellMetadata):
    """nbgrader's check of every cell's nbgrader metadata, with its JSON schema compiled once.

    nbgrader validates each cell with `jsonschema.validate`, which checks the schema itself
    against its meta-schema on every call: about a quarter of a second per notebook, twice per
    submission. The same schema and the same checks, with the validator built once.
    """

    def preprocess(self, nb, resources):
        original = nbgraderformat_common.jsonschema
        nbgraderformat_common.jsonschema = _CompiledSchemas
        try:
            return super().preprocess(nb, resources)
        finally:
            nbgraderformat_common.jsonschema = original


class _CompiledSchemas:
    """What nbgrader's format module uses of jsonschema: `validate`, with validators cached."""

    validators = {}

    @classmethod
    def validate(cls, instance, schema):
        key = json.dumps(schema, sort_keys=True)
        validator = cls.validators.get(key)
        if validator is None:
            validator_class = jsonschema.validators.validator_for(schema)
            validator_class.check_schema(schema)
            validator = cls.validators[key] = validator_class(schema)
        error = jsonschema.exceptions.best_match(validator.iter_errors(instance))
        if error is not None:
            raise error


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
