"""infopack: offline content packaging toolkit for information access.

The pipeline, one module per stage:
manifest -> plan -> jobs (probe, subtitles, encode, image) -> cards -> seal -> verify.
"""

__version__ = "0.1.0"
