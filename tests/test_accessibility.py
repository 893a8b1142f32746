"""The lab as a page: the released notebook, finished and run, rendered to HTML and checked in a
real browser with axe-core (no serious or critical violations), with alt text on every figure
and nothing loaded from the internet. The feedback page gets the same check in test_feedback.py.
"""

import logging

import pytest
from browser_check import check_page
from nbclient import NotebookClient

from coursepack.feedback import OfflineHTMLExporter
from coursepack.submissions import RELEASE_FOLDER, submission_notebook

pytestmark = pytest.mark.slow  # grades for real (make test-fast leaves it out)

NO_ALT = "No description has been provided for this image"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """The release with the reference answers, run in a kernel, as HTML; and nbconvert's log."""
    notebook = submission_notebook({}, "reference")
    NotebookClient(
        notebook, timeout=120, resources={"metadata": {"path": str(RELEASE_FOLDER)}}
    ).execute()
    exporter = OfflineHTMLExporter()
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    exporter.log.addHandler(handler)
    try:
        html, _ = exporter.from_notebook_node(notebook, resources={"metadata": {"name": "lab21"}})
    finally:
        exporter.log.removeHandler(handler)
    path = tmp_path_factory.mktemp("rendered") / "lab21.html"
    path.write_text(html)
    return path, html, [record.getMessage() for record in records]


def test_every_figure_has_alt_text(rendered):
    _, html, log = rendered
    images = html.count("<img")
    assert images >= 7  # data, three diagrams, activations, predictions, loss
    assert NO_ALT not in html
    assert not [line for line in log if "Alternative text" in line]


def test_the_rendered_notebook_has_no_serious_accessibility_problem(rendered, tmp_path):
    path, _, _ = rendered
    page = check_page(path, screenshot=tmp_path / "notebook.png")
    assert page.blocking() == [], page.report()
    assert page.external_requests() == []
    # Every formula is MathML, drawn by the browser itself.
    assert page.maths["count"] > 50 and page.maths["drawn"] == page.maths["count"]
