"""Zoom webinar attendee reports, newer layout: one multi-section CSV per webinar.

Times are written zone-less in the account's time zone, which for the generated account is UTC.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd

from touchplan_sample_data import vocab
from touchplan_sample_data.ids import pick, strftime
from touchplan_sample_data.population import Vocab, obj
from touchplan_sample_data.variation import Style, project

SUMMARY_COLUMNS = [
    "Topic",
    "Webinar ID",
    "Actual Start Time",
    "Actual Duration (minutes)",
    "# Registered",
    "# Cancelled registrations",
    "Unique Viewers",
    "Total Users",
    "Max Concurrent Views",
]
HOST_COLUMNS = [
    "Attended",
    "User Name (Original Name)",
    "Email",
    "Join Time",
    "Leave Time",
    "Time in Session (minutes)",
    "Is Guest",
    "Country/Region Name",
]
ATTENDEE_COLUMNS = [
    "Attended",
    "User Name (Original Name)",
    "First Name",
    "Last Name",
    "Email",
    "Phone",
    "Registration Time",
    "Approval Status",
    "Join Time",
    "Leave Time",
    "Time in Session (minutes)",
    "Is Guest",
    "Country/Region Name",
    "Source Name",
]
OTHER_COLUMNS = [
    "User Name (Original Name)",
    "Join Time",
    "Leave Time",
    "Time in Session (minutes)",
    "Is Guest",
    "Country/Region Name",
]
ZOOM_TIME = "%m/%d/%Y %I:%M:%S %p"
STAFF = [("Alex", "Rivera"), ("Jordan", "Lee"), ("Sam", "Patel"), ("Taylor", "Brooks"), ("Morgan", "Quinn")]
STAFF_DOMAIN = "touchplan.example"


def staff_persons() -> pd.DataFrame:
    first = [f for f, _ in STAFF]
    last = [ln for _, ln in STAFF]
    return pd.DataFrame(
        {
            "person_id": [f"S{k + 1:04d}" for k in range(len(STAFF))],
            "first_name": first,
            "last_name": last,
            "email_work": [f"{f.lower()}.{ln.lower()}@{STAFF_DOMAIN}" for f, ln in STAFF],
            "is_staff": True,
        }
    )


REGISTRANT_COLUMNS = [
    "First Name",
    "Last Name",
    "Email",
    "Phone",
    "Organization",
    "Job Title",
    "Country/Region Name",
    "Registration Time",
    "Approval Status",
]
REGISTRATION_SUMMARY_COLUMNS = [
    "Topic",
    "Webinar ID",
    "Scheduled Time",
    "Duration (minutes)",
    "# Registered",
    "# Cancelled registrations",
]
WEBINAR_EVERY_WEEKS = 2


def plan_webinars(
    n_persons: int, as_of: pd.Timestamp, rng: np.random.Generator, history_days: int = 270
) -> pd.DataFrame:
    """A webinar every other Thursday over the history, up to the last weeks before as-of, and one upcoming.

    Each has an invitation sent on the Monday of its week (the upcoming one's by as-of): the generated campaigns include these, and engaged persons open, click and register that week.
    """
    monday = as_of.normalize() - pd.Timedelta(days=as_of.weekday())
    weeks = np.arange(1, history_days // 7, WEBINAR_EVERY_WEEKS)
    keep = (rng.random(len(weeks)) >= 0.12) | (weeks <= 3)  # now and then a week is skipped (holidays)
    weeks = np.sort(weeks[keep])[::-1]
    k = len(weeks) + 1
    week_start = pd.DatetimeIndex(
        list(monday - pd.to_timedelta(weeks * 7, unit="D")) + [monday + pd.Timedelta(days=7)]
    )
    start = (
        week_start
        + pd.Timedelta(days=3, hours=16)
        + pd.to_timedelta(rng.integers(0, 5, size=k) * 60 + rng.integers(0, 120, size=k), unit="s")
    )
    upcoming = np.zeros(k, dtype=bool)
    upcoming[-1] = True
    invite_at = week_start + pd.Timedelta(hours=14)
    # the upcoming one's invitation is out by as-of: this Monday's, or last Friday's early in the week
    this_monday = monday + pd.Timedelta(hours=14)
    upcoming_invite = (
        this_monday
        if this_monday <= as_of - pd.Timedelta(hours=2)
        else monday - pd.Timedelta(days=3, hours=-14)
    )
    invite_at = invite_at.where(~upcoming, upcoming_invite)
    webinar_id = rng.choice(np.arange(81_000_000_000, 89_999_999_999, 7919), size=k, replace=False)
    topics = obj(vocab.WEBINAR_TOPICS)[
        (rng.permutation(len(vocab.WEBINAR_TOPICS))[np.arange(k) % len(vocab.WEBINAR_TOPICS)])
    ]
    return pd.DataFrame(
        {
            "webinar_id": webinar_id.astype(np.int64),
            "topic": topics,
            "start": start,
            "invite_at": invite_at,
            "is_upcoming": upcoming,
            "duration_min": rng.integers(45, 95, size=k),
            "registrants": np.maximum(15, (n_persons * rng.uniform(0.01, 0.02, size=k)).astype(int)),
        }
    )


def quiet_at(persons: pd.DataFrame, when: pd.Timestamp) -> np.ndarray:
    """Persons in a quiet spell at `when` (lapsed, lapsing, not yet returned): they neither open nor attend.
    `quiet_from` / `quiet_to` are Unix seconds; equal values mean no quiet spell."""
    if "quiet_from" not in persons:
        return np.zeros(len(persons), dtype=bool)
    t = np.int64(pd.Timestamp(when).timestamp())
    return (persons["quiet_from"].to_numpy() <= t) & (t < persons["quiet_to"].to_numpy())


def _weighted_sample(weights: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k distinct indices drawn with probability proportional to weights (Efraimidis-Spirakis keys, O(n))."""
    pos = np.flatnonzero(weights > 0)
    k = min(k, len(pos))
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    keys = np.log(rng.random(len(pos))) / weights[pos]
    top = np.argpartition(-keys, k - 1)[:k]
    return np.sort(pos[top])


def _zoom_id(wid: int) -> str:
    s = str(wid)
    return f"{s[:3]} {s[3:7]} {s[7:]}"


def build_webinar(
    w: pd.Series,
    persons: pd.DataFrame,
    companies: pd.DataFrame,
    voc: Vocab,
    rng: np.random.Generator,
    as_of: pd.Timestamp | None = None,
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """The sections of the webinar's reports (registration report; attendee report once it took place) and the
    true persons behind their emails. `w` needs webinar_id, topic, start, invite_at, is_upcoming, duration_min,
    registrants and number (the persons' `burst_webinar` value that means this webinar)."""
    n = len(persons)
    start = pd.Timestamp(w["start"])
    invite_at = pd.Timestamp(w["invite_at"])
    as_of = pd.Timestamp(as_of) if as_of is not None else start + pd.Timedelta(days=1)
    dur = int(w["duration_min"])
    end = start + pd.Timedelta(minutes=dur)
    eng = persons["engagement"].to_numpy()
    # the persons whose engaged week is this webinar's register for sure; the others by engagement
    burst = (
        persons["burst_webinar"].to_numpy() == int(w["number"])
        if "burst_webinar" in persons
        else np.zeros(n, bool)
    )
    community = persons["is_advocate"].to_numpy() if "is_advocate" in persons else np.zeros(n, bool)
    weights = (eng**2 + 0.01) * (1 + 6 * community) * ~quiet_at(persons, start) * ~burst
    forced = np.flatnonzero(burst)
    reg = np.sort(
        np.concatenate([forced, _weighted_sample(weights, int(w["registrants"]) - len(forced), rng)])
    )
    style = Style(
        nickname=0.12,
        first_typo=0.03,
        last_typo=0.03,
        lower_names=0.06,
        email_other=0.2,
        missing_phone=0.8,
        missing_address=1.0,
        country_styles=[1, 0, 0, 0, 0, 0],
    )
    r = project(persons, companies, voc, reg, rng, style)
    nr = len(reg)
    is_burst = burst[reg]
    attended = (rng.random(nr) < 0.4 + 0.4 * eng[reg]) | is_burst
    # registered after the invitation; burst persons right after clicking it (same week as the webinar)
    window = max(3600, int((min(start, as_of) - invite_at).total_seconds()))
    registered_at = invite_at + pd.to_timedelta(
        np.where(is_burst, rng.integers(3 * 3600, 36 * 3600, size=nr), rng.integers(60, window, size=nr)),
        unit="s",
    )
    early = rng.random(nr) < 0.3  # a share registers earlier, from the website
    registered_at = registered_at.where(
        ~early | is_burst, invite_at - pd.to_timedelta(rng.integers(1, 14 * 86_400, size=nr), unit="s")
    )
    registered_at = registered_at.where(
        registered_at < min(start, as_of), min(start, as_of) - pd.Timedelta(minutes=5)
    )
    country_names = obj(c["name"] for c in voc.countries)[persons["country_idx"].to_numpy()[reg]]
    registrants = (
        pd.DataFrame(
            {
                "First Name": r["first_name"].to_numpy(dtype=object),
                "Last Name": r["last_name"].to_numpy(dtype=object),
                "Email": r["email"].to_numpy(dtype=object),
                "Phone": r["phone"].to_numpy(dtype=object),
                "Organization": r["company"].to_numpy(dtype=object),
                "Job Title": r["title"].to_numpy(dtype=object),
                "Country/Region Name": country_names,
                "Registration Time": strftime(registered_at, ZOOM_TIME),
                "Approval Status": "approved",
            }
        )
        .iloc[np.argsort(registered_at.to_numpy(), kind="stable")]
        .reset_index(drop=True)
    )
    reg_summary = pd.DataFrame(
        [
            {
                "Topic": w["topic"],
                "Webinar ID": _zoom_id(int(w["webinar_id"])),
                "Scheduled Time": start.strftime(ZOOM_TIME),
                "Duration (minutes)": str(dur),
                "# Registered": str(nr),
                "# Cancelled registrations": str(int(rng.integers(0, max(2, nr // 50)))),
            }
        ]
    )
    reg_truth = pd.DataFrame(
        {
            "email": r["email"].to_numpy(dtype=object),
            "person_id": persons["person_id"].to_numpy(dtype=object)[reg],
        }
    )
    if bool(w["is_upcoming"]):
        return {"registration_summary": reg_summary, "registrants": registrants}, reg_truth
    true_first = voc.first[persons["first_idx"].to_numpy()[reg]]
    true_last = voc.last[persons["last_idx"].to_numpy()[reg]]
    nick_first = voc.first_nick[persons["first_idx"].to_numpy()[reg]]
    u = rng.random(nr)
    display = np.where(
        u < 0.8,
        true_first + " " + true_last,
        np.where(
            u < 0.9,
            nick_first + " " + true_last + " (" + true_first + " " + true_last + ")",
            pd.Series(true_first + " " + true_last, dtype=object).str.lower().to_numpy(dtype=object),
        ),
    )
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
    attendees = pd.DataFrame(
        {
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
        }
    )
    order = np.lexsort((s_join, np.where(att, 0, 1)))
    attendees = attendees.iloc[order].reset_index(drop=True)
    # host and panelists: staff, and now and then a customer as guest speaker
    staff = staff_persons()
    host = staff.iloc[int(rng.integers(0, len(staff)))]
    fmt = lambda t: t.strftime(ZOOM_TIME)  # noqa: E731 - one value per section
    hosts = pd.DataFrame(
        [
            {
                "Attended": "Yes",
                "User Name (Original Name)": f"{host.first_name} {host.last_name}",
                "Email": host.email_work,
                "Join Time": fmt(start - pd.Timedelta(minutes=10)),
                "Leave Time": fmt(end),
                "Time in Session (minutes)": str(dur + 10),
                "Is Guest": "No",
                "Country/Region Name": "United States",
            }
        ]
    )
    others = staff[staff["person_id"] != host.person_id].iloc[: int(rng.integers(1, 3))]
    panel_rows = [
        {
            "Attended": "Yes",
            "User Name (Original Name)": f"{s.first_name} {s.last_name}",
            "Email": s.email_work,
            "Join Time": fmt(start - pd.Timedelta(minutes=5)),
            "Leave Time": fmt(end),
            "Time in Session (minutes)": str(dur + 5),
            "Is Guest": "No",
            "Country/Region Name": "United States",
        }
        for s in others.itertuples()
    ]
    advocates = (
        np.flatnonzero(persons["is_advocate"].to_numpy()) if "is_advocate" in persons else np.zeros(0, int)
    )
    guest = int(advocates[rng.integers(0, len(advocates))]) if len(advocates) else int(rng.integers(0, n))
    gp = persons.iloc[guest]
    panel_rows.append(
        {
            "Attended": "Yes",
            "User Name (Original Name)": f"{gp.first_name} {gp.last_name}",
            "Email": gp.email_work,
            "Join Time": fmt(start),
            "Leave Time": fmt(start + pd.Timedelta(minutes=25)),
            "Time in Session (minutes)": "25",
            "Is Guest": "Yes",
            "Country/Region Name": voc.countries[int(gp.country_idx)]["name"],
        }
    )
    panelists = pd.DataFrame(panel_rows)
    n_other = int(rng.integers(1, 5))
    o_join = start + pd.to_timedelta(rng.integers(0, dur * 60, size=n_other), unit="s")
    o_len = rng.integers(60, 1800, size=n_other)
    other = pd.DataFrame(
        {
            "User Name (Original Name)": pick(
                rng, ["iPhone", "Guest", "Conference Room B", "Call-in User_1", "Galaxy S23"], n_other
            ),
            "Join Time": strftime(o_join, ZOOM_TIME),
            "Leave Time": strftime(o_join + pd.to_timedelta(o_len, unit="s"), ZOOM_TIME),
            "Time in Session (minutes)": np.ceil(o_len / 60).astype(int).astype(str),
            "Is Guest": "Yes",
            "Country/Region Name": pick(
                rng, ["United States", "India", "United Kingdom", "Germany"], n_other
            ),
        }
    )
    unique_viewers = int(attended.sum()) + n_other
    summary = pd.DataFrame(
        [
            {
                "Topic": w["topic"],
                "Webinar ID": _zoom_id(int(w["webinar_id"])),
                "Actual Start Time": fmt(start - pd.Timedelta(minutes=10)),
                "Actual Duration (minutes)": str(dur + 10),
                "# Registered": str(nr),
                "# Cancelled registrations": str(int(rng.integers(0, max(2, nr // 50)))),
                "Unique Viewers": str(unique_viewers),
                "Total Users": str(int(att.sum()) + n_other + len(panelists) + 1),
                "Max Concurrent Views": str(max(1, int(unique_viewers * 0.8))),
            }
        ]
    )
    # the true person of every emailed row
    reg_row = reg[row][order]
    truth = pd.DataFrame(
        {
            "email": np.concatenate(
                [
                    attendees["Email"].to_numpy(dtype=object),
                    hosts["Email"].to_numpy(dtype=object),
                    panelists["Email"].to_numpy(dtype=object),
                ]
            ),
            "person_id": np.concatenate(
                [
                    persons["person_id"].to_numpy(dtype=object)[reg_row],
                    [host.person_id],
                    others["person_id"].to_numpy(dtype=object),
                    [gp.person_id],
                ]
            ),
        }
    )
    sections = {
        "summary": summary,
        "hosts": hosts,
        "panelists": panelists,
        "attendees": attendees,
        "other": other,
        "registration_summary": reg_summary,
        "registrants": registrants,
    }
    return sections, pd.concat([truth, reg_truth], ignore_index=True)


def _csv(df: pd.DataFrame) -> str:
    buf = io.StringIO()
    df.to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue()


def write_report(sections: dict[str, pd.DataFrame], path: Path, generated_at: pd.Timestamp) -> int:
    width = len(ATTENDEE_COLUMNS)
    pad = lambda title, cols: title + "," * (cols - 1) + "\n"  # noqa: E731
    text = (
        pad("Attendee Report", width)
        + f'Report Generated:,"{generated_at.strftime(ZOOM_TIME)}"'
        + "," * (width - 2)
        + "\n"
        + _csv(sections["summary"][SUMMARY_COLUMNS])
        + pad("Host Details", len(HOST_COLUMNS))
        + _csv(sections["hosts"][HOST_COLUMNS])
        + pad("Panelist Details", len(HOST_COLUMNS))
        + _csv(sections["panelists"][HOST_COLUMNS])
        + pad("Attendee Details", width)
        + _csv(sections["attendees"][ATTENDEE_COLUMNS])
        + pad("Other Attended", len(OTHER_COLUMNS))
        + _csv(sections["other"][OTHER_COLUMNS])
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return (
        len(sections["attendees"])
        + len(sections["hosts"])
        + len(sections["panelists"])
        + len(sections["other"])
    )


def write_registration_report(
    sections: dict[str, pd.DataFrame], path: Path, generated_at: pd.Timestamp
) -> int:
    """Zoom's webinar Registration Report: title, generation time, the webinar summary, `Registrant Details`."""
    width = len(REGISTRANT_COLUMNS)
    pad = lambda title, cols: title + "," * (cols - 1) + "\n"  # noqa: E731
    text = (
        pad("Registration Report", width)
        + f'Report Generated:,"{generated_at.strftime(ZOOM_TIME)}"'
        + "," * (width - 2)
        + "\n"
        + _csv(sections["registration_summary"][REGISTRATION_SUMMARY_COLUMNS])
        + pad("Registrant Details", width)
        + _csv(sections["registrants"][REGISTRANT_COLUMNS])
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return len(sections["registrants"])
