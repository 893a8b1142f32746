"""Look at the course hub in a real browser (Debian's Chromium, driven by Playwright).

Run by tests/test_hub.py with the hub venv's Python (where Playwright is installed):
    python hub_browser.py HUB_URL STUDENT INSTRUCTOR OUTPUT_DIR
Saves screenshots in OUTPUT_DIR and prints one JSON object of what it saw.
"""

import json
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

WAIT_MS = 30_000
VIEWPORT = {"width": 1280, "height": 800}


def log_in(page, hub_url, user):
    page.goto(f"{hub_url}/hub/login")
    page.fill("#username_input", user)
    page.fill("#password_input", "any password: local trial")
    page.click("#login_submit")
    # The hub sends the user on to their server's JupyterLab.
    page.wait_for_url(f"**/user/{user}/lab**", timeout=WAIT_MS)
    page.locator(".jp-LabShell").wait_for(timeout=WAIT_MS)


def nbgrader_menu_items(page):
    page.get_by_role("menuitem", name="Nbgrader").click()
    items = page.locator(".lm-Menu-itemLabel").all_inner_texts()
    page.keyboard.press("Escape")
    return [item for item in items if item]


def open_from_nbgrader_menu(page, item):
    page.get_by_role("menuitem", name="Nbgrader").click()
    page.locator("#jp-mainmenu-nbgrader").get_by_text(item, exact=True).click()


def student_view(context, hub_url, student, out):
    seen = {}
    page = context.new_page()
    log_in(page, hub_url, student)
    seen["student_menu"] = nbgrader_menu_items(page)
    open_from_nbgrader_menu(page, "Assignment List")
    # The released lab is listed for this student (fetched or not).
    page.locator(".jp-NbgraderAssignmentList, #assignments").first.wait_for(timeout=WAIT_MS)
    page.get_by_text("lab21").first.wait_for(timeout=WAIT_MS)
    page.screenshot(path=str(out / "student-assignment-list.png"))
    seen["student_assignment_list"] = page.locator("body").inner_text()[-2000:]
    page.goto(f"{hub_url}/user/{student}/lab/tree/lab21/lab21.ipynb")
    page.locator(".jp-RenderedMarkdown h1").first.wait_for(timeout=WAIT_MS)
    seen["student_notebook_heading"] = page.locator(".jp-RenderedMarkdown h1").first.inner_text()
    page.screenshot(path=str(out / "student-notebook.png"))
    response = page.goto(f"{hub_url}/user/{student}/formgrader")
    seen["student_formgrader_status"] = response.status if response else None
    page.screenshot(path=str(out / "student-formgrader-refused.png"))
    page.close()
    return seen


def instructor_view(context, hub_url, instructor, out):
    seen = {}
    page = context.new_page()
    log_in(page, hub_url, instructor)
    seen["instructor_menu"] = nbgrader_menu_items(page)
    # Formgrader inside JupyterLab: an iframe of the instructor's server (nbgrader issue 1870).
    open_from_nbgrader_menu(page, "Formgrader")
    frame = page.frame_locator("iframe").first
    frame.get_by_text("Manage Assignments").first.wait_for(timeout=WAIT_MS)
    assignment_row = frame.locator("td", has_text="lab21").first
    assignment_row.wait_for(timeout=WAIT_MS)
    assignment_row.scroll_into_view_if_needed()
    page.screenshot(path=str(out / "instructor-formgrader-tab.png"))
    seen["formgrader_tab_text"] = frame.locator("body").inner_text()[:2000]
    page.goto(f"{hub_url}/user/{instructor}/formgrader/manage_students")
    page.locator("td", has_text="lab21-alice").first.wait_for(timeout=WAIT_MS)
    page.screenshot(path=str(out / "instructor-students.png"), full_page=True)
    seen["gradebook_text"] = page.locator("body").inner_text()[:3000]
    page.close()
    return seen


def main(hub_url, student, instructor, output_dir):
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox"], timeout=WAIT_MS
        )
        try:
            seen = student_view(browser.new_context(viewport=VIEWPORT), hub_url, student, out)
            seen.update(
                instructor_view(browser.new_context(viewport=VIEWPORT), hub_url, instructor, out)
            )
        finally:
            browser.close()
    print(json.dumps(seen))


if __name__ == "__main__":
    main(*sys.argv[1:5])
