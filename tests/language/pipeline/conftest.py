"""Text-pipeline tests: the stand-ins for unmerged modules, installed only where the real ones are missing."""

from __future__ import annotations

from pipeline_standins import install

STANDINS = install()
