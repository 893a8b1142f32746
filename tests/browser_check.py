"""Open a local HTML page in Debian's Chromium (driven by Playwright) and run axe-core on it.

axe-core is pinned in package-lock.json and installed by `make setup` (npm ci); Chromium comes
from Debian (`make setup` installs it). Playwright cannot download browsers here, so it is given
Chromium's path; `--no-sandbox` lets Chromium run as root.
"""

from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import sync_playwright

from coursepack import COURSE_ROOT

AXE = COURSE_ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = Path("/usr/bin/chromium")
BLOCKING = ("serious", "critical")

CARDS = """() => [...document.querySelectorAll('section.lab21-report')].map(card => {
    const box = card.getBoundingClientRect();
    const total = card.querySelector('.lab21-total');
    const at = total ? total.getBoundingClientRect() : box;
    const seen = document.elementFromPoint(at.left + at.width / 2, at.top + at.height / 2);
    return {top: box.top, width: box.width, height: box.height,
            total: total ? total.textContent.trim() : '',
            uncovered: Boolean(total && seen && total.contains(seen))};
})"""

MATHS = """() => {
    const formulas = [...document.querySelectorAll('math')];
    return {count: formulas.length,
            drawn: formulas.filter(m => m.getBoundingClientRect().width > 0).length};
}"""


@dataclass
class PageCheck:
    violations: list  # axe's violations, each {id, impact, help, nodes}
    requests: list = field(default_factory=list)  # every URL the page asked for
    maths: dict = field(default_factory=dict)  # MathML formulas: how many, how many drawn
    title: str = ""  # the page's title after loading (a script that ran could have changed it)
    marks: dict = field(default_factory=dict)  # the body's data- attributes after loading
    cards: list = field(default_factory=list)  # report cards: where, their total, is it on top
    url: str = ""  # where the page is once loaded (and `linger` seconds after)

    def blocking(self):
        return [v for v in self.violations if v["impact"] in BLOCKING]

    def external_requests(self):
        return [url for url in self.requests if not url.startswith(("file:", "data:"))]

    def report(self):
        lines = []
        for violation in self.violations:
            targets = "; ".join(str(node["target"]) for node in violation["nodes"][:3])
            lines.append(
                f"{violation['impact']}: {violation['id']} ({violation['help']}),"
                f" {len(violation['nodes'])} element(s), e.g. {targets}"
            )
        return "\n".join(lines) or "no violations"


def check_page(path, screenshot=None, linger=0.0):
    """Load `path` in Chromium, wait `linger` seconds (for a refresh to happen, say), optionally
    save a screenshot, run axe-core; return a PageCheck."""
    missing = [str(p) for p in (AXE, CHROMIUM) if not p.exists()]
    if missing:
        raise RuntimeError(f"{', '.join(missing)} missing: run `make setup` (as root)")
    requests = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.on("request", lambda request: requests.append(request.url))
            page.goto(Path(path).resolve().as_uri(), wait_until="load")
            page.wait_for_timeout(linger * 1000)
            url = page.url
            if screenshot:
                page.screenshot(path=str(screenshot))
            maths = page.evaluate(MATHS)
            title, marks = page.title(), page.evaluate("() => ({...document.body.dataset})")
            cards = page.evaluate(CARDS)
            # Evaluated by the driver, not loaded by the page: the page's own policy may forbid
            # every script (the feedback pages do).
            page.evaluate(AXE.read_text())
            result = page.evaluate(
                "async () => await axe.run(document, {resultTypes: ['violations']})"
            )
        finally:
            browser.close()
    return PageCheck(result["violations"], requests, maths, title, marks, cards, url)
