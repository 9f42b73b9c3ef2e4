"""Screenshot four pages of the built documentation with headless Chromium.

Usage::

    python docs/check_pages.py docs/_build/html /tmp/shots

Takes a PNG of the home page, the user guide, the API page of
MCDropoutRegressor and the 1-D gallery example, and checks in the rendered
DOM (after the page's scripts ran) that the equations were typeset by the
bundled MathJax, that the gallery figures are there and that the navigation
bar links to every top-level page. Look at the PNGs too. Needs Chromium
(Debian: ``apt-get install chromium``); no network is used.
"""

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PAGES = {
    "home": "index.html",
    "user_guide": "user_guide.html",
    "api_mcdropoutregressor": "generated/sklearn_mcdropout.MCDropoutRegressor.html",
    "gallery_toy_1d": "auto_examples/plot_toy_1d.html",
}
NAV_PAGES = [
    "getting_started.html",
    "user_guide.html",
    "api.html",
    "auto_examples/index.html",
    "benchmarks.html",
]
# Pages that must show math; MathJax 3 turns each into an <mjx-container>.
MIN_EQUATIONS = {"user_guide": 10, "api_mcdropoutregressor": 1}
MIN_FIGURES = {"gallery_toy_1d": 1}


def _chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    sys.exit("Chromium not found: apt-get install chromium")


def _run(args, timeout=120):
    return subprocess.run(
        [
            _chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            f"--user-data-dir={tempfile.mkdtemp(prefix='check_pages_')}",
            # Let MathJax typeset before the screenshot or DOM dump.
            "--virtual-time-budget=20000",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def check_page(name, html, out_dir, width, height):
    """Screenshot ``html`` and check its rendered DOM; return the problems."""
    url = html.resolve().as_uri()
    png = out_dir / f"{name}.png"
    _run([f"--window-size={width},{height}", f"--screenshot={png}", url])
    dom = _run(["--dump-dom", url]).stdout
    problems = []
    if not png.is_file() or png.stat().st_size < 10_000:
        problems.append(f"no screenshot {png}")
    equations = dom.count("<mjx-container")
    expected = max(html.read_text().count('class="math'), MIN_EQUATIONS.get(name, 0))
    if equations < expected:
        problems.append(f"{equations} of {expected} equations typeset")
    if "<mjx-merror" in dom:
        problems.append("MathJax reported a TeX error")
    figures = len(re.findall(r'<img[^>]+class="[^"]*sphx-glr-single-img', dom))
    if figures < MIN_FIGURES.get(name, 0):
        problems.append(f"{figures} gallery figures")
    # The link to the page itself is "#"; every other top-level page is linked.
    missing = [
        page
        for page in NAV_PAGES
        if not html.as_posix().endswith(page) and f'{page.split("/")[-1]}"' not in dom
    ]
    if missing:
        problems.append(f"navigation lacks links to {missing}")
    print(
        f"{name:<24} {png}  equations={equations} figures={figures} "
        f"{'OK' if not problems else 'PROBLEMS: ' + '; '.join(problems)}"
    )
    return problems


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html_dir", type=Path, help="built HTML, docs/_build/html")
    parser.add_argument("out_dir", type=Path, help="folder for the PNG files")
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=1800)
    args = parser.parse_args(argv)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    problems = []
    for name, page in PAGES.items():
        html = args.html_dir / page
        if not html.is_file():
            problems.append(f"{html} does not exist")
            print(f"{name:<24} MISSING {html}")
            continue
        problems += check_page(name, html, args.out_dir, args.width, args.height)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
