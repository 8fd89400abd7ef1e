"""The report for editors as a page (render/reportpage.py) passes axe, as the site's pages do
(tests/test_theme_browser.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from browser import NODE_MODULES, launch, open_page, serve
from dossier.build import load_site
from dossier.model.report import report, today
from dossier.render.reportpage import report_page

pytestmark = pytest.mark.browser
AXE = NODE_MODULES / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_violations_in_the_report_page(untidy: Path, tmp_path: Path,
                                                     scheme: str) -> None:
    if not AXE.is_file():
        pytest.skip("axe-core is not installed: run `make test` (npm ci into .cache/node)")
    out = tmp_path / "out"
    (out / "rapport").mkdir(parents=True)
    page = report_page(report(load_site(untidy), today()), admin_href="../admin/")
    (out / "rapport" / "index.html").write_text(page, "utf-8")
    (out / "admin").mkdir()
    (out / "admin" / "index.html").write_text("<!doctype html><title>admin</title>", "utf-8")
    with serve(out, tmp_path / "www") as base, launch() as browser:
        visit = open_page(browser, base, scheme=scheme)
        visit.page.goto(base + "rapport/")
        visit.page.add_script_tag(path=str(AXE))
        result = visit.page.evaluate(
            "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS)
        problems = [f"{v['id']}: {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
                    for v in result["violations"]]
        assert problems == []
        assert result["passes"], "axe ran no rule"
        assert visit.outside == [] and visit.errors == []
        visit.page.context.close()
