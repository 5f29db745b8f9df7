"""The upload API (FastAPI): `ewto serve`. See ingestion/api/app.py."""

from .app import create_app

__all__ = ["create_app"]
