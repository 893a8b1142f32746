"""The master notebook runs top to bottom in a real kernel, and every test in it passes."""

import nbformat
import pytest
from nbclient import NotebookClient

from coursepack.submissions import SOURCE_NOTEBOOK

pytestmark = pytest.mark.slow  # grades for real (make test-fast leaves it out)


@pytest.fixture(scope="module")
def executed():
    notebook = nbformat.read(SOURCE_NOTEBOOK, as_version=4)
    client = NotebookClient(
        notebook, timeout=120, resources={"metadata": {"path": str(SOURCE_NOTEBOOK.parent)}}
    )
    client.execute()
    return notebook


def test_no_cell_fails(executed):
    errors = [
        (index, output.get("ename"))
        for index, cell in enumerate(executed.cells)
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == "error"
    ]
    assert errors == []


def test_every_hidden_test_gives_full_points(executed):
    for cell in executed.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and "BEGIN HIDDEN TESTS" in cell.source:
            results = [o for o in cell.outputs if o.output_type == "execute_result"]
            assert float(results[-1].data["text/plain"]) == meta["points"], meta["grade_id"]


def test_every_visible_test_says_it_passes(executed):
    for cell in executed.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and meta.get("points") == 0:
            text = "".join(o.get("text", "") for o in cell.outputs)
            assert "passes the visible tests" in text, meta["grade_id"]
