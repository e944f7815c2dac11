"""The HTML report and the Markdown summary: built from hand-made results, shown in Chromium.

The browser tests use Debian's chromium and chromedriver (bin/selftest
installs them); where they are missing the tests skip and say so.
"""

import os
import shutil

import pytest

from qcow2_conformance.reports import html, markdown, table

import support

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


def record(impl, scenario, rule, outcome, message="", family="snapshot", subject=""):
    return support.record(impl, rule, outcome, family, scenario, subject, message)


def doc(qemu, *records):
    return {
        "run": {"implementation": "x", "qemu": qemu, "qemu_version": f"qemu-img version {qemu}"},
        "results": list(records),
        "scenarios": {
            "s1": {"family": "states", "description": "", "chain": "qcow2['b1':recording]"}
        },
    }


DOCS = [
    doc(
        "5.2",
        record("good", "s1", "completes", "passed"),
        record("good", "s1", "carry-recording", "passed"),
        record("good", "s1", "chain-top", "skipped", "not a valid checkpoint", "chain", "x"),
        record("bad", "s1", "completes", "passed"),
        record("bad", "s1", "carry-recording", "failed", "bitmap 'b1': missing from OVERLAY"),
        record(
            "bad", "s1", "qemu-img-agrees", "passed", family="cross-check", subject="ACTIVE before"
        ),
    ),
    doc(
        "10.0",
        record("good", "s1", "completes", "passed"),
        record("good", "s1", "carry-recording", "error", "not evaluated: boom"),
    ),
]


def test_summary_puts_failing_implementations_first():
    verdicts = [
        (v.column.implementation, v.column.release, v.conformant, v.failing)
        for v in table.from_docs(DOCS).verdicts
    ]
    assert ("bad", "5.2", False, ("carry-recording",)) in verdicts
    assert ("good", "10.0", False, ("carry-recording",)) in verdicts
    assert ("good", "5.2", True, ()) in verdicts
    page = html.render(DOCS)
    assert page.index(">bad<") < page.index(">good<")


def test_a_refusal_has_its_symbol_its_colour_and_its_column():
    refused = doc(
        "7.2",
        record("ovirt", "s1", "completes", "refused", "refused, changing nothing: exit status 1"),
        record("ovirt", "s1", "carry-recording", "skipped", "not judged: completes refused"),
    )
    page = html.render([refused])
    assert 'class="cell refused"' in page and ">⊘</td>" in page
    assert "<th>refused, changing nothing</th>" in page and "<td>1 scenario: s1</td>" in page
    assert "td.refused {" in page
    assert "| completes | 0/1 R1 |" in markdown.render([refused])


def test_the_page_loads_nothing_from_the_network():
    page = html.render(DOCS)
    for needle in ("http://", "https://", "<link", "src="):
        assert needle not in page


def test_markdown_summary(tmp_path):
    path = tmp_path / "summary.md"
    markdown.write_summary(path, DOCS[:1])
    text = path.read_text()
    assert "- **bad** on qemu 5.2: NOT conformant" in text and "failing: carry-recording" in text
    assert "- **good** on qemu 5.2: conformant" in text
    assert "| carry-recording | 1/1 | 0/1 F1 |" in text


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not shutil.which(p)]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed: apt-get install chromium chromium-driver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1400,1000",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # Chromium keeps a folder of its own in TMPDIR after it quits: the test's, not /tmp.
    scratch = str(tmp_path_factory.mktemp("chromium"))
    service = Service(CHROMEDRIVER, env={**os.environ, "TMPDIR": scratch})
    driver = webdriver.Chrome(service=service, options=options)
    yield driver
    driver.quit()


@pytest.fixture
def page(browser, tmp_path):
    path = tmp_path / "report.html"
    html.write(str(path), DOCS)
    browser.get(f"file://{path}")
    return browser


def cells(driver, outcome):
    from selenium.webdriver.common.by import By

    return [
        c for c in driver.find_elements(By.CSS_SELECTOR, f"td.cell.{outcome}") if c.is_displayed()
    ]


def test_loads_from_file_without_console_errors(page):
    errors = [e for e in page.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []
    assert page.title == "qcow2 bitmap conformance"


def test_an_outcome_filter_hides_its_cells(page):
    from selenium.webdriver.common.by import By

    assert len(cells(page, "failed")) == 1
    page.find_element(By.CSS_SELECTOR, 'input[name="outcome"][value="failed"]').click()
    assert cells(page, "failed") == []
    assert len(cells(page, "passed")) > 0


def test_an_implementation_filter_hides_its_matrices(page):
    from selenium.webdriver.common.by import By

    before = len(cells(page, "passed"))
    page.find_element(By.CSS_SELECTOR, 'input[name="implementation"][value="good"]').click()
    matrices = page.find_elements(By.CSS_SELECTOR, "section[data-matrix]")
    shown = [m.get_attribute("data-implementation") for m in matrices if m.is_displayed()]
    assert shown == ["bad"]
    assert len(cells(page, "passed")) < before


def test_a_family_filter_hides_its_columns(page):
    from selenium.webdriver.common.by import By

    page.find_element(By.CSS_SELECTOR, 'input[name="family"][value="cross-check"]').click()
    headers = [h.text for h in page.find_elements(By.CSS_SELECTOR, "thead th") if h.is_displayed()]
    assert "qemu-img-agrees" not in headers and "completes" in headers


def test_clicking_a_cell_shows_its_message(page):
    from selenium.webdriver.common.by import By

    detail = page.find_element(By.ID, "detail")
    assert not detail.is_displayed()
    cells(page, "failed")[0].click()
    assert detail.is_displayed()
    assert "bad / qemu 5.2 / s1 / carry-recording" in detail.text
    assert "bitmap 'b1': missing from OVERLAY" in detail.text


def test_a_screenshot_is_saved(page, tmp_path):
    shot = tmp_path / "report.png"
    assert page.save_screenshot(str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert os.path.getsize(shot) > 10_000
