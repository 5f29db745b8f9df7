"""Reference tables of the simulator: member profiles, commodity mixes, species, currencies.

Everything here is SYNTHETIC modelling input except the 2016 advert mix, the coalition's
published totals and eBay's yearly totals (../shared/domain.md section 1). Profiles of
members without an entry are derived from a stable hash of their id, so a registry that
gains a member still simulates without code changes.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

# --- published figures the model is calibrated to (domain.md section 1) -------------------
LAUNCH_PERIOD = "2018-03"
CUMULATIVE_TARGETS = (("2020-03", 3_335_381), ("2021-09", 11_631_819))
EBAY_YEARLY = {2019: 165_000, 2020: 257_000}
# TRAFFIC's 2016 mix of new adverts (domain.md); "hawksbill shell" is `marine_turtle`.
MIX_2016 = {
    "ivory": 0.63,
    "rhino_horn": 0.18,
    "marine_turtle": 0.08,
    "hornbill_casque": 0.05,
    "tiger_parts": 0.04,
    "saiga_horn": 0.02,
    "pangolin": 0.005,
}
# 2017-2018 monthly new adverts 73% below the 2012-2016 average (coalition panel).
DROP_2017_2018 = 0.73
KEYWORD_PANEL_SIZE = 112  # TRAFFIC's fixed list of 112 keywords

# --- member profiles (SYNTHETIC modelling choices) ----------------------------------------
# kind drives content types; weight is the relative takedown volume; proactive is the
# starting share of proactive detections; archetype is the monitoring trajectory after
# joining: achiever (about -85% prevalence), staller (-30..-50%), worse (prevalence rises).


@dataclass(frozen=True)
class Profile:
    kind: str
    weight: float
    proactive: float
    archetype: str
    late_rate: float  # share of monthly takedown exports delivered after the due time
    never_rate: float  # share never delivered


_P = Profile
PROFILES: dict[str, Profile] = {
    "alibaba": _P("marketplace", 10.0, 0.55, "achiever", 0.03, 0.005),
    "baidu": _P("search", 5.0, 0.50, "achiever", 0.05, 0.01),
    "baixing": _P("marketplace", 1.5, 0.30, "staller", 0.12, 0.02),
    "ebay": _P("marketplace", 0.0, 0.50, "achiever", 0.03, 0.005),  # calibrated separately
    "etsy": _P("marketplace", 1.5, 0.45, "achiever", 0.05, 0.01),
    "facebook": _P("social", 6.0, 0.55, "achiever", 0.04, 0.01),
    "google": _P("search", 3.0, 0.65, "achiever", 0.03, 0.005),
    "huaxia_collection": _P("collectibles", 0.4, 0.20, "staller", 0.15, 0.02),
    "instagram": _P("social", 4.0, 0.50, "achiever", 0.04, 0.01),
    "kuaishou": _P("video", 4.0, 0.45, "staller", 0.08, 0.015),
    "mall_for_africa": _P("marketplace", 0.1, 0.20, "staller", 0.20, 0.025),
    "microsoft": _P("search", 1.5, 0.65, "achiever", 0.03, 0.005),
    "pinterest": _P("social", 1.0, 0.45, "staller", 0.06, 0.01),
    "qyer": _P("travel", 0.02, 0.25, "staller", 0.15, 0.02),
    "ruby_lane": _P("collectibles", 0.15, 0.25, "staller", 0.12, 0.02),
    "shengshi_collection": _P("collectibles", 0.3, 0.20, "staller", 0.15, 0.02),
    "tencent": _P("messaging", 6.0, 0.50, "achiever", 0.04, 0.01),
    "wen_wan_tian_xia": _P("collectibles", 0.5, 0.20, "worse", 0.15, 0.02),
    "zhongyikupai": _P("collectibles", 0.3, 0.20, "worse", 0.15, 0.02),
    "zhuanzhuan": _P("marketplace", 3.0, 0.40, "achiever", 0.06, 0.01),
    "58_group": _P("marketplace", 3.0, 0.40, "achiever", 0.06, 0.01),
    "tiktok": _P("video", 4.0, 0.80, "achiever", 0.02, 0.005),
}

# Founding platforms whose monitoring starts late, outside the coalition panel (SYNTHETIC).
MONITORING_START: dict[str, str] = {
    "qyer": "2017-06",
    "ruby_lane": "2017-06",
    "pinterest": "2017-09",
    "tiktok": "2018-08",  # the app's international launch
    "synthetic_marketplace_b": "2014-01",
    "synthetic_messaging_d": "2016-01",
}
# Non-member platforms: how much prevalence grows after the launch (displacement).
DISPLACEMENT = {
    "synthetic_forum_a": 0.9,
    "synthetic_marketplace_b": 0.6,
    "synthetic_social_c": 1.2,
    "synthetic_messaging_d": 1.5,
}
NON_MEMBER_PREVALENCE = {
    "synthetic_forum_a": 70.0,
    "synthetic_marketplace_b": 45.0,
    "synthetic_social_c": 20.0,
    "synthetic_messaging_d": 30.0,
}


def stable_hash(*parts: object) -> int:
    """A process-independent 32-bit hash (Python's hash() is salted per process)."""
    return zlib.crc32("\x1f".join(str(p) for p in parts).encode("utf-8"))


def unit(*parts: object) -> float:
    """A stable pseudo-random number in [0, 1) derived from the parts."""
    return stable_hash(*parts) / 2**32


def profile(org_id: str) -> Profile:
    if org_id in PROFILES:
        return PROFILES[org_id]
    kinds = ("marketplace", "social", "video", "search", "marketplace", "social")
    kind = kinds[stable_hash(org_id, "kind") % len(kinds)]
    # log-uniform weights between 0.04 and 2: many small joiners, a few mid-sized ones
    weight = round(0.04 * 50.0 ** unit(org_id, "weight"), 3)
    a = unit(org_id, "archetype")
    archetype = "achiever" if a < 0.5 else ("staller" if a < 0.85 else "worse")
    proactive = 0.25 + 0.35 * unit(org_id, "proactive")
    return Profile(kind, weight, proactive, archetype, 0.12, 0.012)


CONTENT_MIX: dict[str, dict[str, float]] = {
    "marketplace": {"listing": 0.85, "account": 0.10, "ad": 0.05},
    "collectibles": {"listing": 0.90, "account": 0.08, "post": 0.02},
    "social": {"post": 0.55, "group": 0.10, "account": 0.15, "ad": 0.05, "listing": 0.10, "video": 0.05},
    "video": {"video": 0.55, "livestream": 0.15, "account": 0.20, "post": 0.10},
    "search": {"ad": 0.55, "listing": 0.25, "post": 0.20},
    "messaging": {"post": 0.40, "group": 0.25, "account": 0.30, "ad": 0.05},
    "travel": {"post": 0.70, "account": 0.20, "listing": 0.10},
}

# --- regions, from the reporting time zone ------------------------------------------------
REGION_BY_TZ = {
    "Asia/Shanghai": "cn",
    "Asia/Tokyo": "jp",
    "Asia/Singapore": "sg",
    "Africa/Lagos": "ng",
    "Africa/Nairobi": "ke",
    "Europe/Berlin": "de",
    "Europe/London": "gb",
}
CURRENCY = {
    "cn": "CNY",
    "jp": "JPY",
    "sg": "SGD",
    "ng": "NGN",
    "ke": "KES",
    "de": "EUR",
    "gb": "GBP",
    "us": "USD",
}
USD_RATE = {
    "CNY": 6.8,
    "JPY": 110.0,
    "SGD": 1.36,
    "NGN": 360.0,
    "KES": 105.0,
    "EUR": 0.9,
    "GBP": 0.78,
    "USD": 1.0,
}
LANGUAGE = {
    "cn": "zh-CN",
    "jp": "ja",
    "sg": "en-SG",
    "ng": "en-NG",
    "ke": "sw",
    "de": "de",
    "gb": "en-GB",
    "us": "en",
}
MONITOR_LANGUAGE = {"traffic": "zh-CN", "wwf": "en", "ifaw": "en"}
SELLER_COUNTRIES: dict[str, dict[str, float]] = {
    "cn": {"CN": 0.86, "HK": 0.05, "VN": 0.03, "LA": 0.02, "MM": 0.02, "TW": 0.02},
    "us": {
        "US": 0.45,
        "GB": 0.1,
        "CA": 0.06,
        "DE": 0.05,
        "FR": 0.05,
        "ZA": 0.04,
        "TH": 0.05,
        "ID": 0.05,
        "VN": 0.04,
        "NG": 0.03,
        "AU": 0.04,
        "MX": 0.04,
    },
    "de": {"DE": 0.55, "AT": 0.1, "PL": 0.1, "FR": 0.1, "NL": 0.08, "CZ": 0.07},
    "gb": {"GB": 0.7, "IE": 0.08, "US": 0.1, "FR": 0.06, "NL": 0.06},
    "jp": {"JP": 0.85, "CN": 0.08, "TH": 0.07},
    "sg": {"SG": 0.4, "MY": 0.25, "ID": 0.2, "TH": 0.15},
    "ng": {"NG": 0.7, "GH": 0.1, "CM": 0.1, "BJ": 0.1},
    "ke": {"KE": 0.6, "TZ": 0.15, "UG": 0.15, "ET": 0.1},
}


def region(timezone: str) -> str:
    return REGION_BY_TZ.get(timezone, "us")


# --- commodities --------------------------------------------------------------------------
_REST_CN = {
    "pangolin": 0.25,
    "bear_parts": 0.2,
    "other_big_cat_parts": 0.15,
    "shark_ray": 0.15,
    "live_reptile": 0.05,
    "live_bird": 0.05,
    "other": 0.15,
}
_LIVE = {
    "live_reptile": 0.22,
    "live_bird": 0.18,
    "live_primate": 0.07,
    "live_big_cat": 0.03,
    "live_other_mammal": 0.1,
    "other_big_cat_parts": 0.07,
    "bear_parts": 0.04,
    "shark_ray": 0.06,
    "pangolin": 0.05,
    "other": 0.18,
}


def _blend(a: dict[str, float], wa: float, b: dict[str, float], wb: float) -> dict[str, float]:
    keys = list(dict.fromkeys([*a, *b]))
    sa, sb = sum(a.values()), sum(b.values())
    return {k: wa * a.get(k, 0.0) / sa + wb * b.get(k, 0.0) / sb for k in keys}


# Takedown commodity mixes: China-facing platforms look like the 2016 advert mix; the rest
# carry more live animals.
COMMODITY_MIX = {"cn": _blend(MIX_2016, 0.8, _REST_CN, 0.2)}
COMMODITY_MIX_DEFAULT = _blend(MIX_2016, 0.45, _LIVE, 0.55)

# commodity -> [(scientific name or None, CITES appendix, weight)]
SPECIES: dict[str, list[tuple[str | None, str, float]]] = {
    "ivory": [
        ("Loxodonta africana", "I", 0.55),
        ("Elephas maximus", "I", 0.1),
        ("Mammuthus primigenius", "none", 0.1),
        (None, "unknown", 0.25),
    ],
    "rhino_horn": [
        ("Diceros bicornis", "I", 0.25),
        ("Ceratotherium simum", "I", 0.35),
        ("Rhinoceros unicornis", "I", 0.1),
        (None, "unknown", 0.3),
    ],
    "pangolin": [
        ("Manis pentadactyla", "I", 0.35),
        ("Manis javanica", "I", 0.3),
        ("Smutsia gigantea", "I", 0.1),
        (None, "unknown", 0.25),
    ],
    "tiger_parts": [("Panthera tigris", "I", 0.8), (None, "unknown", 0.2)],
    "other_big_cat_parts": [
        ("Panthera pardus", "I", 0.4),
        ("Panthera onca", "I", 0.15),
        ("Panthera uncia", "I", 0.1),
        ("Panthera leo", "II", 0.2),
        (None, "unknown", 0.15),
    ],
    "bear_parts": [
        ("Ursus thibetanus", "I", 0.45),
        ("Helarctos malayanus", "I", 0.2),
        ("Ursus arctos", "II", 0.15),
        (None, "unknown", 0.2),
    ],
    "marine_turtle": [
        ("Eretmochelys imbricata", "I", 0.7),
        ("Chelonia mydas", "I", 0.15),
        (None, "unknown", 0.15),
    ],
    "hornbill_casque": [("Rhinoplax vigil", "I", 0.9), (None, "unknown", 0.1)],
    "saiga_horn": [("Saiga tatarica", "II", 0.85), (None, "unknown", 0.15)],
    "shark_ray": [
        ("Sphyrna lewini", "II", 0.3),
        ("Carcharhinus longimanus", "II", 0.2),
        ("Mobula birostris", "II", 0.2),
        (None, "unknown", 0.3),
    ],
    "live_reptile": [
        ("Python regius", "II", 0.3),
        ("Testudo graeca", "II", 0.2),
        ("Astrochelys radiata", "I", 0.15),
        ("Varanus salvadorii", "II", 0.1),
        (None, "unknown", 0.25),
    ],
    "live_bird": [
        ("Psittacus erithacus", "I", 0.3),
        ("Cacatua sulphurea", "I", 0.15),
        ("Amazona aestiva", "II", 0.25),
        (None, "unknown", 0.3),
    ],
    "live_primate": [
        ("Nycticebus coucang", "I", 0.35),
        ("Macaca fascicularis", "II", 0.3),
        ("Cebuella pygmaea", "II", 0.2),
        (None, "unknown", 0.15),
    ],
    "live_big_cat": [
        ("Panthera leo", "II", 0.4),
        ("Acinonyx jubatus", "I", 0.3),
        ("Panthera tigris", "I", 0.2),
        (None, "unknown", 0.1),
    ],
    "live_other_mammal": [
        ("Aonyx cinereus", "I", 0.3),
        ("Suricata suricatta", "none", 0.25),
        ("Petaurus breviceps", "none", 0.2),
        (None, "unknown", 0.25),
    ],
    "other": [(None, "unknown", 1.0)],
}
# typical asking price in USD (lognormal median)
PRICE_USD = {
    "ivory": 250,
    "rhino_horn": 2000,
    "pangolin": 80,
    "tiger_parts": 400,
    "other_big_cat_parts": 300,
    "bear_parts": 150,
    "marine_turtle": 120,
    "hornbill_casque": 600,
    "saiga_horn": 150,
    "shark_ray": 90,
    "live_reptile": 120,
    "live_bird": 300,
    "live_primate": 1500,
    "live_big_cat": 5000,
    "live_other_mammal": 400,
    "other": 60,
}
