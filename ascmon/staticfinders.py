"""Serve plotly.js from the plotly package: never copied into the repo, never fetched from a CDN."""

import functools
import re
from pathlib import Path

import plotly
from django.contrib.staticfiles.finders import BaseFinder
from django.core.files.storage import FileSystemStorage

PLOTLY_DIR = Path(plotly.__file__).resolve().parent / "package_data"
PLOTLY_STATIC_PATH = "vendor/plotly.min.js"


class PlotlyFinder(BaseFinder):
    """Finds `vendor/plotly.min.js` inside the plotly package."""

    storage = FileSystemStorage(location=PLOTLY_DIR)
    storage.prefix = "vendor"

    def check(self, **kwargs):
        return []

    def find(self, path, find_all=False, **kwargs):
        if path != PLOTLY_STATIC_PATH:
            return [] if find_all else None
        match = str(PLOTLY_DIR / "plotly.min.js")
        return [match] if find_all else match

    def list(self, ignore_patterns):
        yield "plotly.min.js", self.storage


# plotly.js adds <style> elements to the page at run time, unless one with the same id is there already:
# its global rules ("plotly.js-style-global", filled with insertRule) and the CSS of bundled libraries
# (maplibre, id = a digest of the CSS). Under the Content-Security-Policy only elements carrying the page's
# nonce apply, so templates write them first, empty, with the nonce (ascmon/templatetags/charts.py).
BUNDLED_STYLE = re.compile(
    rb'getElementById\("([0-9a-f]{64})"\)\)\{var \w+=document\.createElement\("style"\)'
)


@functools.cache
def plotly_style_ids():
    bundled = BUNDLED_STYLE.findall((PLOTLY_DIR / "plotly.min.js").read_bytes())
    return ("plotly.js-style-global", *(found.decode() for found in bundled))
