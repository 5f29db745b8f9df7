"""Imported once by each Celery worker before it forks (see celery_config.py): the modules a
landing task needs, so task processes start with them loaded. Imports only: no thread pool,
connection or GX context is created here, which keeps forking safe."""

from __future__ import annotations

import os

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

import great_expectations  # noqa: E402, F401

import ingestion.drops  # noqa: E402, F401
import ingestion.sources.collect  # noqa: E402, F401
import ingestion.submission  # noqa: E402, F401
import ingestion.validation  # noqa: E402, F401
