"""``schakel adapter iwmo DIR``: iWmo 3.2 XML messages, one message per ``*.xml`` file.

- :mod:`~adapters.iwmo.source` — the source: files, cursor, what a file becomes;
- :mod:`~adapters.iwmo.safexml` — hardened parsing with depth and element limits;
- :mod:`~adapters.iwmo.message` — message kinds, header and version rules, checked values;
- :mod:`~adapters.iwmo.mapping` — one product → its catalogue event;
- :mod:`~adapters.iwmo.versions` — record keys, ``sequence`` and deletions (pure);
- :mod:`schemas.iwmo_codes` — code lists and XSD versions generated from the official XSDs
  by :mod:`schemas.iwmo_codegen` (in ``schemas/``: the catalogue checks ``reden_beeindiging``
  of every source against the same list).
"""

from adapters.iwmo.files import ProcessedFiles
from adapters.iwmo.source import IwmoSource

__all__ = ["IwmoSource", "ProcessedFiles"]
