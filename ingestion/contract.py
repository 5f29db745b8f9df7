"""The export contract, version 1 (../shared/domain.md section 3), as data.

Everything that needs to know the canonical columns (the reader, the GX suites, the
simulator, the lake schema) takes them from here, so the contract is written down once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

CONTRACT_VERSION = 1

Kind = Literal["string", "timestamp", "date", "integer", "decimal", "boolean"]

CONTENT_TYPES = ("listing", "post", "ad", "video", "livestream", "group", "account")
DETECTION_SOURCES = (
    "automated_text",
    "automated_image",
    "internal_review",
    "user_report",
    "ngo_referral",
    "cyber_spotter",
    "law_enforcement",
)
PROACTIVE_SOURCES = ("automated_text", "automated_image", "internal_review")
DETECTION_STAGES = ("pre_publication", "post_publication")
ACTION_TYPES = (
    "blocked",
    "removed",
    "restricted",
    "account_warned",
    "account_suspended",
    "account_terminated",
    "referred_to_law_enforcement",
)
COMMODITIES = (
    "ivory",
    "rhino_horn",
    "pangolin",
    "tiger_parts",
    "other_big_cat_parts",
    "bear_parts",
    "marine_turtle",
    "hornbill_casque",
    "saiga_horn",
    "shark_ray",
    "live_reptile",
    "live_bird",
    "live_primate",
    "live_big_cat",
    "live_other_mammal",
    "other",
)
CITES_APPENDICES = ("I", "II", "III", "none", "unknown")
DATASETS = ("takedowns", "monitoring")


@dataclass(frozen=True)
class Column:
    """One canonical column: its name, whether a file must carry it, its type and domain."""

    name: str
    required: bool
    kind: Kind
    domain: tuple[str, ...] | None = None
    pseudonymised: bool = False


TAKEDOWNS: tuple[Column, ...] = (
    Column("record_id", True, "string", pseudonymised=True),
    Column("content_type", True, "string", CONTENT_TYPES),
    Column("detected_at", True, "timestamp"),
    Column("actioned_at", True, "timestamp"),
    Column("detection_source", True, "string", DETECTION_SOURCES),
    Column("detection_stage", True, "string", DETECTION_STAGES),
    Column("action_type", True, "string", ACTION_TYPES),
    Column("commodity", True, "string", COMMODITIES),
    Column("seller_id", True, "string", pseudonymised=True),
    Column("platform_id", False, "string"),
    Column("species_scientific_name", False, "string"),
    Column("cites_appendix", False, "string", CITES_APPENDICES),
    Column("seller_country", False, "string"),
    Column("price", False, "decimal"),
    Column("currency", False, "string"),
    Column("appealed", False, "boolean"),
    Column("restored", False, "boolean"),
    Column("referral_id", False, "string"),
)

MONITORING: tuple[Column, ...] = (
    Column("survey_id", True, "string"),
    Column("platform_id", True, "string"),
    Column("window_start", True, "date"),
    Column("window_end", True, "date"),
    Column("keyword_id", True, "string"),
    Column("language", True, "string"),
    Column("queries_run", True, "integer"),
    Column("new_adverts_found", True, "integer"),
    Column("adverts_referred", False, "integer"),
    Column("commodity", False, "string", COMMODITIES),
)

COLUMNS: dict[str, tuple[Column, ...]] = {"takedowns": TAKEDOWNS, "monitoring": MONITORING}


def columns(dataset: str) -> tuple[Column, ...]:
    """The canonical columns of a dataset, in contract order."""
    return COLUMNS[dataset]


def column_names(dataset: str) -> list[str]:
    return [c.name for c in COLUMNS[dataset]]
