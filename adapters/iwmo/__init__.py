"""``schakel adapter iwmo DIR``: iWmo 3.2 XML messages, one message per ``*.xml`` file
(see :mod:`adapters.iwmo.source`)."""

from adapters.iwmo.source import IwmoSource, ProcessedFiles

__all__ = ["IwmoSource", "ProcessedFiles"]
