"""Compatibility shim: apache-airflow-providers-celery 3.26.0 with celery 5.7.0 (the
versions uv.lock pins) do not work together with the database result backend:

1. the provider does `from celery.backends.database import retry`, a decorator celery 5.7
   removed: no Celery worker and no scheduler with the CeleryExecutor can start;
2. celery 5.7 stores results as raw bytes (LargeBinary) and decodes them in
   `DatabaseBackend._get_task_meta_for`, but the provider's bulk state fetch reads the rows
   itself and calls `meta_from_decoded` on the undecoded bytes: the first failed Celery
   task (e.g. a worker's timeout against the API server) crashes the scheduler loop.

Until the lock pins `celery<5.7` (or a provider release adapts), `install()` puts celery
5.6's decorator back and decodes the bytes in `meta_from_decoded`, when that module is
imported. Each patch does nothing where celery already behaves, so it can stay after the fix.

Installed at interpreter start-up: by a `.pth` file in the image (Dockerfile) and by a
`sitecustomize.py` in the deployment test. Importing this module imports nothing else.
"""

from __future__ import annotations

import functools
import importlib.abc
import importlib.machinery
import logging
import sys
from types import ModuleType
from typing import Any

TARGET = "celery.backends.database"
log = logging.getLogger(__name__)


def retry(fun: Any) -> Any:
    """celery 5.6's `celery.backends.database.retry`: retry a DB operation 3 times."""

    @functools.wraps(fun)
    def _inner(*args: Any, **kwargs: Any) -> Any:
        from sqlalchemy.exc import DatabaseError, InterfaceError, InvalidRequestError
        from sqlalchemy.orm.exc import StaleDataError

        max_retries = kwargs.pop("max_retries", 3)
        for retries in range(max_retries):
            try:
                return fun(*args, **kwargs)
            except (DatabaseError, InterfaceError, InvalidRequestError, StaleDataError):
                log.warning(
                    "Failed operation %s. Retrying %s more times.",
                    fun.__name__,
                    max_retries - retries - 1,
                    exc_info=True,
                )
                if retries + 1 >= max_retries:
                    raise
        return None

    return _inner


def _patch(module: ModuleType) -> None:
    if not hasattr(module, "retry"):
        module.retry = retry  # type: ignore[attr-defined]
    backend = getattr(module, "DatabaseBackend", None)
    if (
        backend is not None
        and hasattr(backend, "_decode_stored_result")
        and not getattr(backend.meta_from_decoded, "_ewto_compat", False)
    ):
        original = backend.meta_from_decoded

        def meta_from_decoded(self: Any, meta: dict[str, Any]) -> Any:
            if isinstance(meta.get("result"), bytes | bytearray | memoryview):
                meta = {**meta, "result": self._decode_stored_result(meta["result"])}
            return original(self, meta)

        meta_from_decoded._ewto_compat = True  # type: ignore[attr-defined]
        backend.meta_from_decoded = meta_from_decoded


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if name != TARGET:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        original = spec.loader.exec_module

        def exec_module(module: ModuleType) -> None:
            original(module)
            _patch(module)

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def install() -> None:
    module = sys.modules.get(TARGET)
    if module is not None:
        _patch(module)
    elif not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.insert(0, _Finder())
