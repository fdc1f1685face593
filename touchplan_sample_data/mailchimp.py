"""Mailchimp audience export: a zip of subscribed / unsubscribed / cleaned member CSVs."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from touchplan_sample_data import vocab
from touchplan_sample_data.ids import fmt_datetime, hex_strings, pick
from touchplan_sample_data.population import Vocab, duplicated_first, obj
from touchplan_sample_data.variation import Style, project

BASE_COLUMNS = [
    "Email Address",
    "First Name",
    "Last Name",
    "Address",
    "Phone Number",
    "MEMBER_RATING",
    "OPTIN_TIME",
    "OPTIN_IP",
    "CONFIRM_TIME",
    "CONFIRM_IP",
    "LATITUDE",
    "LONGITUDE",
    "GMTOFF",
    "DSTOFF",
    "TIMEZONE",
    "CC",
    "REGION",
    "LAST_CHANGED",
]
TAIL_COLUMNS = ["LEID", "EUID", "NOTES", "TAGS"]
UNSUB_COLUMNS = [
    "UNSUB_TIME",
    "UNSUB_CAMPAIGN_TITLE",
    "UNSUB_CAMPAIGN_ID",
    "UNSUB_REASON",
    "UNSUB_REASON_OTHER",
]
CLEAN_COLUMNS = ["CLEAN_TIME", "CLEAN_CAMPAIGN_TITLE", "CLEAN_CAMPAIGN_ID"]
COLUMNS = {
    "subscribed": BASE_COLUMNS + TAIL_COLUMNS,
    "unsubscribed": BASE_COLUMNS + UNSUB_COLUMNS + TAIL_COLUMNS,
    "cleaned": BASE_COLUMNS + CLEAN_COLUMNS + TAIL_COLUMNS,
}
# standard and daylight offsets (hours) of the zones the generator uses
TZ_OFFSETS = {
    "America/New_York": (-5, -4),
    "America/Chicago": (-6, -5),
    "America/Denver": (-7, -6),
    "America/Phoenix": (-7, -7),
    "America/Los_Angeles": (-8, -7),
    "America/Toronto": (-5, -4),
    "America/Vancouver": (-8, -7),
    "America/Sao_Paulo": (-3, -3),
    "Europe/London": (0, 1),
    "Europe/Dublin": (0, 1),
    "Europe/Berlin": (1, 2),
    "Europe/Paris": (1, 2),
    "Europe/Madrid": (1, 2),
    "Europe/Amsterdam": (1, 2),
    "Europe/Copenhagen": (1, 2),
    "Europe/Warsaw": (1, 2),
    "Australia/Sydney": (10, 11),
    "Australia/Melbourne": (10, 11),
    "Australia/Brisbane": (10, 10),
}
TAGS = ['"Webinar"', '"Customer"', '"Newsletter"', '"Trade Show 2025"', '"Product Demo"', '"Partner"']


@dataclass
class MailchimpOutput:
    members: pd.DataFrame  # all members with a "status" column and the export columns
    hex_ids: dict[str, str]
    truth: pd.DataFrame


def _ip(rng: np.random.Generator, n: int) -> np.ndarray:
    octets = rng.integers(1, 255, size=(n, 4)).astype(str).astype(object)
    return octets[:, 0] + "." + octets[:, 1] + "." + octets[:, 2] + "." + octets[:, 3]


def build_mailchimp(
    persons: pd.DataFrame,
    companies: pd.DataFrame,
    voc: Vocab,
    members: np.ndarray,
    hidden: np.ndarray,
    campaigns: pd.DataFrame,
    as_of: pd.Timestamp,
    rng: np.random.Generator,
) -> MailchimpOutput:
    style = Style(
        nickname=0.1,
        missing_phone=0.7,
        missing_address=0.6,
        email_other=0.15,
        country_styles=[1, 0, 0, 0, 0, 0],
    )
    m = project(persons, companies, voc, members, rng, style, hidden)
    n = len(m)
    p = persons.iloc[members]
    opted = p["opted_out"].to_numpy()
    u = rng.random(n)
    status = np.where(
        opted & (u < 0.7),
        "unsubscribed",
        np.where(u < 0.08, "cleaned", np.where(u > 0.94, "unsubscribed", "subscribed")),
    )
    optin = as_of - pd.to_timedelta(rng.integers(20 * 86_400, 900 * 86_400, size=n), unit="s")
    optin = pd.Series(optin).dt.floor("s")
    confirm = optin + pd.to_timedelta(rng.integers(30, 7200, size=n), unit="s")
    changed = confirm + pd.to_timedelta(
        (rng.random(n) * (as_of - confirm).dt.total_seconds()).astype(np.int64), unit="s"
    )
    address = (
        m["street"].fillna("")
        + "  "
        + m["city"].fillna("")
        + "  "
        + m["state"].fillna("")
        + "  "
        + m["postal_code"].fillna("")
        + "  "
        + p["country_code"].to_numpy(dtype=object)
    )
    address = address.where(m["street"].notna(), "")
    tz = p["time_zone"].to_numpy(dtype=object)
    gmt = pd.Series(tz).map(lambda z: TZ_OFFSETS.get(z, (0, 0))[0])  # small dict lookup per distinct value
    dst = pd.Series(tz).map(lambda z: TZ_OFFSETS.get(z, (0, 0))[1])
    city_idx = p["city_idx"].to_numpy()
    lat = voc.cities["lat"].to_numpy()[city_idx] + rng.normal(0, 0.05, size=n)
    lon = voc.cities["lon"].to_numpy()[city_idx] + rng.normal(0, 0.05, size=n)
    geo = rng.random(n) < 0.6
    tag_count = rng.integers(0, 3, size=n)
    t1 = obj(TAGS)[rng.integers(0, len(TAGS), size=n)]
    t2 = obj(TAGS)[rng.integers(0, len(TAGS), size=n)]
    tags = np.where(tag_count == 0, "", np.where((tag_count == 1) | (t1 == t2), t1, t1 + "," + t2))
    leid = (100_000_000 + np.cumsum(rng.integers(1, 400, size=n))).astype(np.int64)
    leid = leid[rng.permutation(n)]
    event_time = changed
    camp = campaigns.iloc[rng.integers(0, len(campaigns), size=n)] if len(campaigns) else None
    df = pd.DataFrame(
        {
            "Email Address": m["email"].to_numpy(),
            "First Name": m["first_name"].to_numpy(),
            "Last Name": m["last_name"].to_numpy(),
            "Address": address.to_numpy(),
            "Phone Number": m["phone"].to_numpy(),
            "MEMBER_RATING": np.where(status == "cleaned", 1, rng.integers(1, 6, size=n)),
            "OPTIN_TIME": fmt_datetime(optin, "%Y-%m-%d %H:%M:%S").to_numpy(),
            "OPTIN_IP": np.where(rng.random(n) < 0.5, _ip(rng, n), ""),
            "CONFIRM_TIME": fmt_datetime(confirm, "%Y-%m-%d %H:%M:%S").to_numpy(),
            "CONFIRM_IP": _ip(rng, n),
            "LATITUDE": np.where(geo, pd.Series(lat).map("{:.7f}".format), ""),
            "LONGITUDE": np.where(geo, pd.Series(lon).map("{:.7f}".format), ""),
            "GMTOFF": np.where(geo, gmt.astype(str), ""),
            "DSTOFF": np.where(geo, dst.astype(str), ""),
            "TIMEZONE": np.where(geo, tz, ""),
            "CC": np.where(geo, p["country_code"].to_numpy(dtype=object), ""),
            "REGION": np.where(geo, p["state"].to_numpy(dtype=object), ""),
            "LAST_CHANGED": fmt_datetime(changed, "%Y-%m-%d %H:%M:%S").to_numpy(),
            "UNSUB_TIME": fmt_datetime(event_time, "%Y-%m-%d %H:%M:%S").to_numpy(),
            "UNSUB_CAMPAIGN_TITLE": camp["title"].to_numpy() if camp is not None else "",
            "UNSUB_CAMPAIGN_ID": camp["mailchimp_id"].to_numpy() if camp is not None else "",
            "UNSUB_REASON": pick(rng, vocab.UNSUB_REASONS + ["", ""], n),
            "UNSUB_REASON_OTHER": "",
            "CLEAN_TIME": fmt_datetime(event_time, "%Y-%m-%d %H:%M:%S").to_numpy(),
            "CLEAN_CAMPAIGN_TITLE": camp["title"].to_numpy() if camp is not None else "",
            "CLEAN_CAMPAIGN_ID": camp["mailchimp_id"].to_numpy() if camp is not None else "",
            "LEID": leid.astype(str),
            "EUID": hex_strings(rng, n, 10),
            "NOTES": "",
            "TAGS": tags,
            "status": status,
        }
    )
    other = df["UNSUB_REASON"] == "Other"
    df.loc[other, "UNSUB_REASON_OTHER"] = pick(
        rng, ["too many emails", "not relevant to my role", "changed jobs"], int(other.sum())
    )
    # an audience holds an address once
    key = df["Email Address"].str.strip().str.lower()
    keep = pd.Series(~duplicated_first(key.to_numpy(dtype=object)))
    df = df[keep.to_numpy()].reset_index(drop=True)
    kept_members = members[keep.to_numpy()]
    truth = pd.DataFrame(
        {
            "source_system": "mailchimp",
            "source_record_id": df["LEID"].to_numpy(),
            "person_idx": kept_members,
            "is_role_mailbox": False,
        }
    )
    hex_ids = {s: hex_strings(rng, 1, 10)[0] for s in ("subscribed", "unsubscribed", "cleaned")}
    return MailchimpOutput(df, hex_ids, truth)


def write_mailchimp_zip(out: MailchimpOutput, path: Path, as_of: pd.Timestamp) -> dict[str, int]:
    """The zip Mailchimp hands out; fixed member timestamps keep the bytes reproducible."""
    path.parent.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    stamp = (as_of.year, as_of.month, as_of.day, as_of.hour, as_of.minute, as_of.second)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for status in ("subscribed", "unsubscribed", "cleaned"):
            part = out.members[out.members["status"] == status]
            buf = io.StringIO()
            part[COLUMNS[status]].to_csv(buf, index=False, lineterminator="\n")
            name = f"{status}_members_export_{out.hex_ids[status]}.csv"
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, buf.getvalue().encode("utf-8"))
            counts[f"mailchimp/audience_export.zip:{name}"] = len(part)
    return counts
