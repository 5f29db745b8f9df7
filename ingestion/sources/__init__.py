"""Member sources: fetch each organisation's exports (drop folder, HTTPS API, SFTP) into
`$EWTO_HOME/inbox/<org>/<dataset>/`, then land them with the intake's functions.

Nothing heavy is imported here: the Airflow DAGs import this package inside tasks only.
"""

from .collect import (
    FetchResult,
    SourceError,
    fetch_org,
    inbox_dir,
    land_org,
    landed_since,
    landed_since_last_build,
)
from .config import SourceConfig, SourceConfigError, load_sources, parse_source, source_for
from .periods import parse_periods

__all__ = [
    "FetchResult",
    "SourceConfig",
    "SourceConfigError",
    "SourceError",
    "fetch_org",
    "inbox_dir",
    "land_org",
    "landed_since",
    "landed_since_last_build",
    "load_sources",
    "parse_periods",
    "parse_source",
    "source_for",
]
