"""Imported by the extraction pool's forkserver before it forks any worker.

Loading here, once, what every worker needs (trafilatura, extruct, lxml and py3langid's
model of some 75 MB) means workers start ready and share those pages with the forkserver
copy-on-write instead of each loading its own: the pool's memory stays near one worker's.

The model is unpacked (LZMA, in one call outside the GIL: :mod:`pipelines.langmodel`) in a
thread while the extractors are imported, so the workers are ready after the longer of the
two rather than after both.
"""

import gc
import logging
import threading

logger = logging.getLogger(__name__)

_TEXT = "A warm-up page, long enough for the language model to load. " * 4


def _load_language_model() -> None:
    try:
        from pipelines.langmodel import load_language_model
        from pipelines.normalize import detect_language

        load_language_model()  # unpacked outside the GIL, beside the imports
        detect_language(_TEXT)  # py3langid loads it now if that could not
    except Exception as e:
        logger.warning("Language detection could not warm up: %s", e)


def warm_up() -> None:
    """Never raises: a worker that could not warm up loads what it needs on its first page
    (and a failure there is that page's recorded failure, not a broken pool)."""
    model = threading.Thread(target=_load_language_model, name="warm-language-model")
    model.start()
    try:
        from pipelines.extraction import analyze_page
        from pipelines.page import PageInput

        # lang given: the model is the other thread's to load
        html = f'<html lang="en"><body><p>{_TEXT}</p></body></html>'.encode()
        analyze_page(PageInput("http://warm.up/", html))
    except Exception as e:
        logger.warning("Extraction workers could not warm up: %s", e)
    finally:
        model.join()


warm_up()
# Out of the collector's reach: a collection in a worker would otherwise write to (and so copy)
# every page holding these objects. See the gc.freeze() documentation.
gc.freeze()
