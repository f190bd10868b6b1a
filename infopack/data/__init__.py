"""Data files curators tune: profiles, card classes, layout, scrub patterns, glossary, scanner strings."""

from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent
