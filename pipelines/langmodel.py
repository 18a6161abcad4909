"""Load py3langid's language model outside the GIL, so that it loads beside other work.

py3langid unpacks its model (4.5 MB of LZMA, 68 MB unpacked) through ``lzma.open`` in small
reads, each of which takes the GIL back: in a thread it hardly runs while the thread that
holds the GIL imports modules. Unpacked in 8 MB steps it does, since each step runs outside
the GIL (0.27 s in all). That is how the extraction pool's forkserver loads it
(:mod:`pipelines.worker_warmup`) while it imports the extractors.

The arrays are read as py3langid 0.4 stores them. Any other layout (an older or newer
py3langid) leaves the loading to py3langid itself, on its first use.
"""

from __future__ import annotations

import importlib.util
import logging
import lzma
import tempfile
from array import array
from pathlib import Path
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

logger = logging.getLogger(__name__)

_TYPECODES = {2: "H", 4: "I", 8: "L"}
#: Where py3langid 0.4 keeps its model, inside its package (checked against MODEL_FILE).
_MODEL_FILE = "data/model.npz.xz"
_STEP = 8 * 1024 * 1024


def _array(values: np.ndarray) -> array:
    """A NumPy unsigned-int array as the stdlib array py3langid's tokenizer walks."""
    import numpy as np

    out = array(_TYPECODES[values.dtype.itemsize])
    out.frombytes(memoryview(np.ascontiguousarray(values)).cast("B"))
    return out


def _unpack(path: Path) -> IO[bytes]:
    """The model unpacked into a temporary file, 8 MB at a time: each step runs outside the
    GIL, and the 68 MB are never in memory at once (as with py3langid's own loading)."""
    data = path.read_bytes()
    out = tempfile.TemporaryFile()
    try:
        decompressor = lzma.LZMADecompressor()
        while not decompressor.eof:
            chunk = decompressor.decompress(data, max_length=_STEP)
            data = b""
            if not chunk and decompressor.needs_input:
                raise ValueError(f"{path} ends early")
            out.write(chunk)
        out.seek(0)
    except BaseException:
        out.close()
        raise
    return out


def load_language_model() -> bool:
    """Install py3langid's default model as its identifier; False if py3langid will load it
    itself instead (already loaded, or a model layout this does not know)."""
    try:
        # Unpacked first, before NumPy and py3langid are imported (a tenth of a second that
        # holds the GIL), so the unpacking starts at once beside the caller's other work.
        spec = importlib.util.find_spec("py3langid")
        path = Path(spec.origin).parent / _MODEL_FILE
        with _unpack(path) as unpacked:
            import numpy as np
            from py3langid import langid

            if langid.IDENTIFIER is not None:
                return False
            if Path(langid.MODEL_DIR) / langid.MODEL_FILE != path:
                raise ValueError(f"py3langid's model is not {path}")
            with np.load(unpacked, allow_pickle=False) as data:
                identifier = langid.LanguageIdentifier(
                    np.asarray(data["ptc"]),
                    np.asarray(data["pc"]),
                    data["classes"].tolist(),
                    _array(data["nextmove"]),
                    data["out_feat"].tolist(),
                    tk_row=_array(data["nextmove_row"]),
                )
    except Exception as e:  # another py3langid: its own loader will do
        logger.debug("py3langid's model left to py3langid: %s", e)
        return False
    langid.IDENTIFIER = identifier
    return True
