"""Imported by the extraction pool's forkserver before it forks any worker.

Loading here, once, what every worker needs (trafilatura, extruct, lxml and py3langid's
model of some 75 MB) means workers start ready and share those pages with the forkserver
copy-on-write instead of each loading its own: the pool's memory stays near one worker's.
"""

import gc
import logging

from pipelines.extraction import PageInput, analyze_page
from pipelines.normalize import detect_language

logger = logging.getLogger(__name__)


def warm_up() -> None:
    """Never raises: a worker that could not warm up loads what it needs on its first page
    (and a failure there is that page's recorded failure, not a broken pool)."""
    text = b"A warm-up page, long enough for the language model to load. " * 4
    try:
        analyze_page(
            PageInput("http://warm.up/", b"<html><body><p>" + text + b"</p></body></html>")
        )
        detect_language(text.decode())
    except Exception as e:
        logger.warning("Extraction workers could not warm up: %s", e)


warm_up()
# Out of the collector's reach: a collection in a worker would otherwise write to (and so copy)
# every page holding these objects. See the gc.freeze() documentation.
gc.freeze()
