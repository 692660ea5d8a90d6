"""Fixtures for the site tests: build the real site once, serve it, drive headless Chromium.

Chromium is Debian's package (/usr/bin/chromium), driven by Playwright's Python client;
Playwright's own browser download is never used.
"""
import functools
import http.server
import threading
from pathlib import Path

import pytest

from site_helpers import CHROMIUM, CHROMIUM_ARGS, OUT, ROOT, run_build


@pytest.fixture(scope="session")
def built_site() -> Path:
    """The repository's site, built into docs/_build (what `nox -s docs` makes)."""
    proc = run_build(ROOT, OUT)
    if proc.returncode != 0:
        pytest.fail(f"site build failed:\n{proc.stderr}", pytrace=False)
    return OUT


@pytest.fixture(scope="session")
def site_url(built_site):
    handler = functools.partial(QuietHandler, directory=str(built_site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium)",
                    pytrace=False)
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, color_scheme="light")
    pg = context.new_page()
    errors = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    context.close()
    assert not errors, f"JavaScript errors: {errors}"
