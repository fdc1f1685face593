"""Zoom webinar attendee reports, newer layout: one multi-section CSV per webinar.

Times are written zone-less in the account's time zone, which for the generated account is UTC.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.lib.sample_data import vocab
from pipelines.lib.sample_data.ids import pick, strftime
from pipelines.lib.sample_data.population import Vocab, obj
from pipelines.lib.sample_data.variation import Style, project

SUMMARY_COLUMNS = ["Topic", "Webinar ID", "Actual Start Time", "Actual Duration (minutes)", "# Registered",
                   "# Cancelled registrations", "Unique Viewers", "Total Users", "Max Concurrent Views"]
HOST_COLUMNS = ["Attended", "User Name (Original Name)", "Email", "Join Time", "Leave Time",
                "Time in Session (minutes)", "Is Guest", "Country/Region Name"]
ATTENDEE_COLUMNS = ["Attended", "User Name (Original Name)", "First Name", "Last Name", "Email", "Phone",
                    "Registration Time", "Approval Status", "Join Time", "Leave Time", "Time in Session (minutes)",
                    "Is Guest", "Country/Region Name", "Source Name"]
OTHER_COLUMNS = ["User Name (Original Name)", "Join Time", "Leave Time", "Time in Session (minutes)", "Is Guest",
                 "Country/Region Name"]
ZOOM_TIME = "%m/%d/%Y %I:%M:%S %p"
STAFF = [("Alex", "Rivera"), ("Jordan", "Lee"), ("Sam", "Patel"), ("Taylor", "Brooks"), ("Morgan", "Quinn")]
STAFF_DOMAIN = "touchplan.example"


def staff_persons() -> pd.DataFrame:
    first = [f for f, _ in STAFF]
    last = [ln for _, ln in STAFF]
    return pd.DataFrame({
        "person_id": [f"S{k + 1:04d}" for k in range(len(STAFF))],
        "first_name": first, "last_name": last,
        "email_work": [f"{f.lower()}.{ln.lower()}@{STAFF_DOMAIN}" for f, ln in STAFF],
        "is_staff": True,
    })


def plan_webinars(n_persons: int, as_of: pd.Timestamp, rng: np.random.Generator) -> pd.DataFrame:
    k = int(rng.integers(4, 9))
    days = np.sort(rng.choice(np.arange(7, 265), size=k, replace=False))[::-1]
    start = (as_of.normalize() - pd.to_timedelta(days, unit="D") + pd.Timedelta(hours=16)
             + pd.to_timedelta(rng.integers(0, 5, size=k) * 60 + rng.integers(0, 120, size=k), unit="s"))
    webinar_id = rng.choice(np.arange(81_000_000_000, 89_999_999_999, 7919), size=k, replace=False)
    topics = obj(vocab.WEBINAR_TOPICS)[rng.permutation(len(vocab.WEBINAR_TOPICS))[:k]]
    return pd.DataFrame({
        "webinar_id": webinar_id.astype(np.int64), "topic": topics, "start": start,
        "duration_min": rng.integers(45, 95, size=k),
        "registrants": np.maximum(15, (n_persons * rng.uniform(0.02, 0.04, size=k)).astype(int)),
    })


def _zoom_id(wid: int) -> str:
    s = str(wid)
    return f"{s[:3]} {s[3:7]} {s[7:]}"


def build_webinar(w: pd.Series, persons: pd.DataFrame, companies: pd.DataFrame, voc: Vocab,
                  rng: np.random.Generator) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """The sections of one report and the true persons behind its emails."""
    n = len(persons)
    start = pd.Timestamp(w["start"])
    dur = int(w["duration_min"])
    end = start + pd.Timedelta(minutes=dur)
    weights = persons["engagement"].to_numpy() + 0.05
    reg = rng.choice(n, size=min(int(w["registrants"]), n), replace=False, p=weights / weights.sum())
    style = Style(nickname=0.12, first_typo=0.03, last_typo=0.03, lower_names=0.06, email_other=0.2,
                  missing_phone=0.8, missing_address=1.0, country_styles=[1, 0, 0, 0, 0, 0])
    r = project(persons, companies, voc, reg, rng, style)
    nr = len(reg)
    attended = rng.random(nr) < 0.65
    true_first = voc.first[persons["first_idx"].to_numpy()[reg]]
    true_last = voc.last[persons["last_idx"].to_numpy()[reg]]
    nick_first = voc.first_nick[persons["first_idx"].to_numpy()[reg]]
    u = rng.random(nr)
    display = np.where(u < 0.8, true_first + " " + true_last,
                       np.where(u < 0.9, nick_first + " " + true_last + " (" + true_first + " " + true_last + ")",
                                pd.Series(true_first + " " + true_last, dtype=object).str.lower().to_numpy(dtype=object)))
    registered_at = start - pd.to_timedelta(rng.integers(3600, 20 * 86_400, size=nr), unit="s")
    sessions = np.where(attended, rng.choice([1, 2, 3, 4], size=nr, p=[0.7, 0.2, 0.07, 0.03]), 1)
    row = np.repeat(np.arange(nr), sessions)
    seq = np.arange(len(row)) - np.repeat(np.cumsum(sessions) - sessions, sessions)
    k = sessions[row]
    join0 = rng.integers(-300, 20 * 60, size=nr)
    span = np.maximum(120, dur * 60 + 300 - join0 - rng.integers(0, dur * 45, size=nr))
    s_join = join0[row] + (span[row] * seq) // k + np.where(seq > 0, rng.integers(10, 90, size=len(row)), 0)
    s_leave = join0[row] + (span[row] * (seq + 1)) // k
    s_leave = np.maximum(s_leave, s_join + 30)
    join = start + pd.to_timedelta(s_join, unit="s")
    leave = start + pd.to_timedelta(s_leave, unit="s")
    minutes = np.ceil((s_leave - s_join) / 60).astype(np.int64)
    att = attended[row]
    first_row = seq == 0
    country_names = obj(c["name"] for c in voc.countries)[persons["country_idx"].to_numpy()[reg]]
    attendees = pd.DataFrame({
        "Attended": np.where(att, "Yes", "No"),
        "User Name (Original Name)": display[row],
        "First Name": r["first_name"].to_numpy(dtype=object)[row],
        "Last Name": r["last_name"].to_numpy(dtype=object)[row],
        "Email": r["email"].to_numpy(dtype=object)[row],
        "Phone": r["phone"].to_numpy(dtype=object)[row],
        "Registration Time": np.where(first_row, strftime(registered_at, ZOOM_TIME)[row], "--"),
        "Approval Status": np.where(first_row, "approved", "--"),
        "Join Time": np.where(att, strftime(join, ZOOM_TIME), "--"),
        "Leave Time": np.where(att, strftime(leave, ZOOM_TIME), "--"),
        "Time in Session (minutes)": np.where(att, minutes.astype(str), "--"),
        "Is Guest": np.where(att, "Yes", "--"),
        "Country/Region Name": country_names[row],
        "Source Name": pick(rng, ["Direct", "Email campaign", "LinkedIn", "Website", "Partner"], nr)[row],
    })
    order = np.lexsort((s_join, np.where(att, 0, 1)))
    attendees = attendees.iloc[order].reset_index(drop=True)
    # host and panelists: staff, and now and then a customer as guest speaker
    staff = staff_persons()
    host = staff.iloc[int(rng.integers(0, len(staff)))]
    fmt = lambda t: t.strftime(ZOOM_TIME)  # noqa: E731 - one value per section
    hosts = pd.DataFrame([{
        "Attended": "Yes", "User Name (Original Name)": f"{host.first_name} {host.last_name}",
        "Email": host.email_work, "Join Time": fmt(start - pd.Timedelta(minutes=10)), "Leave Time": fmt(end),
        "Time in Session (minutes)": str(dur + 10), "Is Guest": "No", "Country/Region Name": "United States",
    }])
    others = staff[staff["person_id"] != host.person_id].iloc[: int(rng.integers(1, 3))]
    panel_rows = [{
        "Attended": "Yes", "User Name (Original Name)": f"{s.first_name} {s.last_name}", "Email": s.email_work,
        "Join Time": fmt(start - pd.Timedelta(minutes=5)), "Leave Time": fmt(end), "Time in Session (minutes)": str(dur + 5),
        "Is Guest": "No", "Country/Region Name": "United States",
    } for s in others.itertuples()]
    guest = int(rng.integers(0, n))
    gp = persons.iloc[guest]
    panel_rows.append({
        "Attended": "Yes", "User Name (Original Name)": f"{gp.first_name} {gp.last_name}",
        "Email": gp.email_work, "Join Time": fmt(start), "Leave Time": fmt(start + pd.Timedelta(minutes=25)),
        "Time in Session (minutes)": "25", "Is Guest": "Yes",
        "Country/Region Name": voc.countries[int(gp.country_idx)]["name"],
    })
    panelists = pd.DataFrame(panel_rows)
    n_other = int(rng.integers(1, 5))
    o_join = start + pd.to_timedelta(rng.integers(0, dur * 60, size=n_other), unit="s")
    o_len = rng.integers(60, 1800, size=n_other)
    other = pd.DataFrame({
        "User Name (Original Name)": pick(rng, ["iPhone", "Guest", "Conference Room B", "Call-in User_1", "Galaxy S23"], n_other),
        "Join Time": strftime(o_join, ZOOM_TIME),
        "Leave Time": strftime(o_join + pd.to_timedelta(o_len, unit="s"), ZOOM_TIME),
        "Time in Session (minutes)": np.ceil(o_len / 60).astype(int).astype(str),
        "Is Guest": "Yes",
        "Country/Region Name": pick(rng, ["United States", "India", "United Kingdom", "Germany"], n_other),
    })
    unique_viewers = int(attended.sum()) + n_other
    summary = pd.DataFrame([{
        "Topic": w["topic"], "Webinar ID": _zoom_id(int(w["webinar_id"])),
        "Actual Start Time": fmt(start - pd.Timedelta(minutes=10)), "Actual Duration (minutes)": str(dur + 10),
        "# Registered": str(nr), "# Cancelled registrations": str(int(rng.integers(0, max(2, nr // 50)))),
        "Unique Viewers": str(unique_viewers), "Total Users": str(int(att.sum()) + n_other + len(panelists) + 1),
        "Max Concurrent Views": str(max(1, int(unique_viewers * 0.8))),
    }])
    # the true person of every emailed row
    reg_row = reg[row][order]
    truth = pd.DataFrame({
        "email": np.concatenate([attendees["Email"].to_numpy(dtype=object), hosts["Email"].to_numpy(dtype=object),
                                 panelists["Email"].to_numpy(dtype=object)]),
        "person_id": np.concatenate([persons["person_id"].to_numpy(dtype=object)[reg_row], [host.person_id],
                                     others["person_id"].to_numpy(dtype=object), [gp.person_id]]),
    })
    sections = {"summary": summary, "hosts": hosts, "panelists": panelists, "attendees": attendees, "other": other}
    return sections, truth


def _csv(df: pd.DataFrame) -> str:
    buf = io.StringIO()
    df.to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue()


def write_report(sections: dict[str, pd.DataFrame], path: Path, generated_at: pd.Timestamp) -> int:
    width = len(ATTENDEE_COLUMNS)
    pad = lambda title, cols: title + "," * (cols - 1) + "\n"  # noqa: E731
    text = (
        pad("Attendee Report", width)
        + f'Report Generated:,"{generated_at.strftime(ZOOM_TIME)}"' + "," * (width - 2) + "\n"
        + _csv(sections["summary"][SUMMARY_COLUMNS])
        + pad("Host Details", len(HOST_COLUMNS)) + _csv(sections["hosts"][HOST_COLUMNS])
        + pad("Panelist Details", len(HOST_COLUMNS)) + _csv(sections["panelists"][HOST_COLUMNS])
        + pad("Attendee Details", width) + _csv(sections["attendees"][ATTENDEE_COLUMNS])
        + pad("Other Attended", len(OTHER_COLUMNS)) + _csv(sections["other"][OTHER_COLUMNS])
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return len(sections["attendees"]) + len(sections["hosts"]) + len(sections["panelists"]) + len(sections["other"])
