"""Orchestration: population -> source systems -> files, plus the ground truth for scoring identity resolution."""

from __future__ import annotations

import contextvars
import csv
import io
import shutil
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from touchplan_sample_data import crm as crm_mod
from touchplan_sample_data import mailchimp as mc_mod
from touchplan_sample_data import past_campaigns as past_mod
from touchplan_sample_data import sendgrid as sg_mod
from touchplan_sample_data import vocab
from touchplan_sample_data import zoom as zoom_mod
from touchplan_sample_data.ids import hex_strings, strftime
from touchplan_sample_data.population import Vocab, build_persons, duplicated_first, obj

HISTORY_DAYS = 270
TRUTH_COLUMNS = ["source_system", "source_record_id", "person_id", "is_role_mailbox"]
STREAMS = {
    "population": 1,
    "membership": 2,
    "deals": 3,
    "crm": 4,
    "mailchimp": 5,
    "sendgrid": 6,
    "zoom": 7,
    "campaigns": 8,
    "roles": 9,
    "behaviour": 10,
    "bursts": 11,
    "past_campaigns": 12,
}
QUIET_FOREVER = np.int64(2**62)
SENIOR_TITLES = ("c_level", "vp", "director")


@dataclass
class GenerationSummary:
    out_dir: Path
    files: dict[str, int] = field(default_factory=dict)  # relative path -> data rows written
    persons: int = 0
    elapsed_seconds: float = 0.0

    def lines(self) -> list[str]:
        out = [f"{path}: {rows} rows" for path, rows in self.files.items()]
        out.append(
            f"{self.persons} persons, {sum(self.files.values())} rows in {len(self.files)} files, "
            f"{self.elapsed_seconds:.1f}s"
        )
        return out


def _rng(seed: int, stream: str) -> np.random.Generator:
    return np.random.default_rng([seed, STREAMS[stream]])


# The DuckDB settings of this generate() call, read by every _write_csv (set and reset by generate).
_DUCKDB_CONFIG: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "duckdb_config", default=None
)


def _write_csv(df: pd.DataFrame, path: Path) -> int:
    """RFC 4180 CSV (quotes only where needed, empty for missing), written by DuckDB for speed.

    The header line is written by the csv module so it is never quoted differently from the vendor's.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    body = path.with_name(path.name + ".body")
    con = duckdb.connect(":memory:", config=_DUCKDB_CONFIG.get() or {})
    try:
        con.execute("SET threads TO 2")
        con.register("frame", df)
        cols = ", ".join(f'nullif(CAST("{c}" AS VARCHAR), \'\') AS "c{i}"' for i, c in enumerate(df.columns))
        con.execute(
            f"COPY (SELECT {cols} FROM frame) TO '{body}' (FORMAT csv, HEADER false, DELIMITER ',', "
            "QUOTE '\"', ESCAPE '\"', NEW_LINE '\\n')"
        )
    finally:
        con.close()
    header = io.StringIO()
    csv.writer(header, lineterminator="\n").writerow(list(df.columns))
    with path.open("wb") as fh, body.open("rb") as src:
        fh.write(header.getvalue().encode("utf-8"))
        shutil.copyfileobj(src, fh, 16 * 1024 * 1024)
    body.unlink()
    return len(df)


def plan_membership(persons: pd.DataFrame, deals: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    n = len(persons)
    in_sf = rng.random(n) < 0.60
    in_hs = rng.random(n) < 0.50
    in_mc = rng.random(n) < 0.40
    sf_kind = obj(["contact", "lead", "converted"])[rng.choice(3, size=n, p=[0.45, 0.30, 0.25])]
    has_deal = np.zeros(n, dtype=bool)
    has_deal[deals["person_idx"].to_numpy()] = True
    # buyers live in a CRM: placed in Salesforce, HubSpot or both
    place = rng.choice(3, size=n, p=[0.6, 0.25, 0.15])  # sf, hs, both
    in_hs = in_hs | (has_deal & ~in_sf)
    deals_in_sf = has_deal & in_sf & (~in_hs | (place != 1))
    deals_in_hs = has_deal & in_hs & (~in_sf | (place != 0))
    sf_kind = np.where(deals_in_sf & (sf_kind == "lead"), "converted", sf_kind)
    # records that share no identifier with the person's other records (only name, address, birth date)
    count = in_sf.astype(int) + in_hs.astype(int) + in_mc.astype(int)
    hide = (count >= 2) & (rng.random(n) < 0.08)
    first_sys = np.where(in_sf, 0, np.where(in_hs, 1, 2))
    # candidates after the first system: with two systems the other one, with three hs or mc at random
    second = np.where(
        first_sys == 0, np.where(in_hs & in_mc, rng.choice([1, 2], size=n), np.where(in_hs, 1, 2)), 2
    )
    hidden_sys = np.where(hide, second, -1)
    # engaged prospects and advocates are on the marketing lists (Mailchimp, else HubSpot)
    engaged = persons["is_hot_lead"].to_numpy() | persons["is_advocate"].to_numpy()
    to_mc = engaged & (rng.random(n) < 0.75)
    in_mc = in_mc | to_mc
    in_hs = in_hs | (engaged & ~in_mc)
    return pd.DataFrame(
        {
            "in_sf": in_sf,
            "sf_kind": sf_kind,
            "in_hs": in_hs,
            "in_mc": in_mc,
            "deals_in_sf": deals_in_sf,
            "deals_in_hs": deals_in_hs,
            "hidden_sf": hidden_sys == 0,
            "hidden_hs": hidden_sys == 1,
            "hidden_mc": hidden_sys == 2,
        }
    )


def plan_campaigns(
    as_of: pd.Timestamp, webinars: pd.DataFrame, rng: np.random.Generator, newsletter_every_days: int = 28
) -> pd.DataFrame:
    """Every webinar's invitation (Monday of its week) and a newsletter every four weeks (Tuesdays), up to as-of.

    `webinar` is the webinar's row number for invitations, -1 for the others.
    """
    first = as_of.normalize() - pd.Timedelta(days=HISTORY_DAYS - 5)
    first = first - pd.Timedelta(days=first.weekday()) + pd.Timedelta(days=1, hours=14)
    letters = pd.date_range(first, as_of - pd.Timedelta(hours=2), freq=f"{newsletter_every_days}D")
    invites = pd.DatetimeIndex(webinars["invite_at"])
    sent_at = pd.DatetimeIndex(list(letters) + list(invites))
    webinar = np.concatenate([np.full(len(letters), -1), np.arange(len(webinars))])
    keep = sent_at <= as_of
    sent_at, webinar = sent_at[keep], webinar[keep]
    order = np.argsort(sent_at.to_numpy(), kind="stable")
    sent_at, webinar = sent_at[order], webinar[order]
    count = len(sent_at)
    others = [t for t in vocab.CAMPAIGN_THEMES if t != "Webinar Invitation"]
    themes = np.where(
        webinar >= 0, "Webinar Invitation", obj(others)[np.cumsum(webinar < 0) % len(others)]
    ).astype(object)
    cats = []
    for k in range(count):
        c1 = vocab.EMAIL_CATEGORIES[int(rng.integers(0, len(vocab.EMAIL_CATEGORIES)))]
        c2 = (
            "webinar_invite"
            if webinar[k] >= 0
            else vocab.EMAIL_CATEGORIES[int(rng.integers(0, len(vocab.EMAIL_CATEGORIES)))]
        )
        cats.append(c1 if (k % 3 == 0 or c1 == c2) else [c1, c2])  # a string or an array, as SendGrid sends
    slug = (
        pd.Series(themes, dtype=object).str.lower().str.replace(" ", "-", regex=False).to_numpy(dtype=object)
    )
    sent = pd.Series(sent_at.tz_localize(None) if sent_at.tz is not None else sent_at)
    ids = "cmp-" + strftime(sent, "%Y%m%d") + "-" + slug
    topic = np.where(webinar >= 0, webinars["topic"].to_numpy(dtype=object)[np.maximum(webinar, 0)], "")
    title = np.where(
        webinar >= 0, "Webinar: " + topic, themes + " " + sent.dt.strftime("%b %Y").to_numpy(dtype=object)
    )
    return pd.DataFrame(
        {
            "campaign_id": ids,
            "title": title,
            "sent_at": sent.to_numpy(),
            "categories": cats,
            "mailchimp_id": hex_strings(rng, count, 10),
            "webinar": webinar,
        }
    )


def shape_behaviour(
    persons: pd.DataFrame,
    profile: np.ndarray,
    deals: pd.DataFrame,
    as_of: pd.Timestamp,
    rng: np.random.Generator,
) -> None:
    """Tie behaviour to the buyer profile (in place): engagement, senior titles for engaged prospects, and
    quiet spells (Unix seconds, [quiet_from, quiet_to)) in which lapsing, lapsed and not-yet-returned customers
    neither open nor attend anything."""
    n = len(persons)
    names = obj([p[0] for p in crm_mod.PROFILES])
    prof = np.where(profile >= 0, names[np.maximum(profile, 0)], "none")
    hot = prof == "hot_lead"
    adv = prof == "advocate"
    eng = persons["engagement"].to_numpy().copy()
    eng[adv] = rng.uniform(0.75, 0.95, size=int(adv.sum()))
    eng[hot] = rng.uniform(0.6, 0.9, size=int(hot.sum()))
    persons["engagement"] = eng
    # engaged prospects are mostly people who can buy: senior titles
    seniority = obj(t[1] for t in vocab.TITLES)
    senior = np.flatnonzero(np.isin(seniority, SENIOR_TITLES))
    managers = np.flatnonzero(seniority == "manager")
    title = persons["title_idx"].to_numpy().copy()
    u = rng.random(n)
    to_senior = hot & (u < 0.6)
    to_manager = hot & (u >= 0.6) & (u < 0.85)
    title[to_senior] = senior[rng.integers(0, len(senior), size=int(to_senior.sum()))]
    title[to_manager] = managers[rng.integers(0, len(managers), size=int(to_manager.sum()))]
    persons["title_idx"] = title
    persons["is_hot_lead"] = hot
    persons["is_advocate"] = adv
    quiet_from = np.zeros(n, dtype=np.int64)
    quiet_to = np.zeros(n, dtype=np.int64)
    as_of_s = int(as_of.timestamp())
    day = 86_400
    lapsed = prof == "lapsed"
    quiet_to[lapsed] = QUIET_FOREVER
    lapsing = prof == "lapsing"
    quiet_from[lapsing] = as_of_s - rng.integers(95, 170, size=int(lapsing.sum())) * day
    quiet_to[lapsing] = QUIET_FOREVER
    # reactivated: nothing between the old purchases and the return (the last deal's creation)
    back = deals[deals["profile"] == "reactivated"].groupby("person_idx")["created_at"].max()
    if len(back):
        quiet_to[back.index.to_numpy()] = (
            pd.DatetimeIndex(back.to_numpy()).astype("datetime64[s]").astype(np.int64)
        )
    persons["quiet_from"] = quiet_from
    persons["quiet_to"] = quiet_to


def assign_bursts(
    persons: pd.DataFrame, recipients: pd.DataFrame, webinars: pd.DataFrame, rng: np.random.Generator
) -> np.ndarray:
    """Per person, the webinar whose week they are very engaged in (-1: none): they get its invitation, open it
    several times, click, register and attend. Advocates and engaged prospects have one (prospects in the last
    weeks, advocates in the last 90 days), other marketing recipients now and then, more often when engaged."""
    n = len(persons)
    out = np.full(n, -1, dtype=np.int64)
    on_list = np.zeros(n, dtype=bool)
    on_list[recipients["person_idx"].to_numpy()] = True
    eng = persons["engagement"].to_numpy()
    hot = persons["is_hot_lead"].to_numpy()
    adv = persons["is_advocate"].to_numpy()
    others = on_list & ~hot & ~adv & (rng.random(n) < 0.25 * eng)
    k = len(webinars)
    as_of_days = (
        pd.DatetimeIndex(webinars["start"]) - pd.DatetimeIndex(webinars["start"]).max()
    ).days.to_numpy()
    past = np.flatnonzero(~webinars["is_upcoming"].to_numpy())
    recent = np.concatenate([past[-2:], np.flatnonzero(webinars["is_upcoming"].to_numpy())])
    last_90 = np.flatnonzero((as_of_days >= -100) & ~webinars["is_upcoming"].to_numpy())
    last_90 = last_90 if len(last_90) else past[-1:]
    for mask, choices in ((on_list & hot, recent), (on_list & adv, last_90), (others, np.arange(k))):
        m = int(mask.sum())
        if m and len(choices):
            out[mask] = choices[rng.integers(0, len(choices), size=m)]
    # nobody bursts in a quiet spell
    for w in range(k):
        sel = out == w
        if sel.any():
            quiet = zoom_mod.quiet_at(persons, pd.Timestamp(webinars["invite_at"].iloc[w]))
            out[sel & quiet] = -1
    return out


def generate(
    out_dir: Path,
    contacts: int = 2000,
    seed: int = 42,
    as_of: datetime | None = None,
    progress: Callable[[str], None] | None = None,
    duckdb_config: Mapping[str, str] | None = None,
) -> GenerationSummary:
    """Write a realistic, fragmented set of exports for `contacts` true persons into out_dir.

    Deterministic for (contacts, seed, as_of); as_of defaults to now (UTC) and the history covers about
    nine months before it. `duckdb_config` (e.g. `memory_limit`, `temp_directory`) is given to the in-memory
    DuckDB that writes the CSV files; `touchplan sample-data` passes the pipeline's own limits.
    """
    token = _DUCKDB_CONFIG.set(dict(duckdb_config or {}))
    try:
        return _generate_quietly(out_dir, contacts, seed, as_of, progress)
    finally:
        _DUCKDB_CONFIG.reset(token)


def _generate_quietly(
    out_dir: Path, contacts: int, seed: int, as_of: datetime | None, progress: Callable[[str], None] | None
) -> GenerationSummary:
    # Object (Python str) columns are several times faster here than Arrow-backed strings, which pandas 3
    # infers by default; the option is scoped to this call.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pd.option_context("future.infer_string", False):
            return _generate(out_dir, contacts, seed, as_of, progress)


def _generate(
    out_dir: Path, contacts: int, seed: int, as_of: datetime | None, progress: Callable[[str], None] | None
) -> GenerationSummary:
    if contacts < 50:
        raise ValueError(f"contacts must be at least 50 (got {contacts})")
    say = progress or (lambda _msg: None)
    started = time.perf_counter()
    as_of = (as_of or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    as_of_ts = pd.Timestamp(as_of).tz_localize(None)
    out_dir = Path(out_dir)
    summary = GenerationSummary(out_dir=out_dir)
    voc = Vocab.build()

    say(f"building {contacts} persons")
    persons, companies = build_persons(contacts, _rng(seed, "population"), voc, as_of)
    profile = crm_mod.assign_profiles(contacts, _rng(seed, "deals"))
    deals = crm_mod.build_deals(profile, as_of_ts, _rng(seed, "deals"))
    shape_behaviour(persons, profile, deals, as_of_ts, _rng(seed, "behaviour"))
    membership = plan_membership(persons, deals, _rng(seed, "membership"))
    zrng = _rng(seed, "zoom")
    webinars = zoom_mod.plan_webinars(contacts, as_of_ts, zrng, HISTORY_DAYS)
    campaigns = plan_campaigns(as_of_ts, webinars, _rng(seed, "campaigns"))

    say("projecting persons into Salesforce and HubSpot")
    crm = crm_mod.build_crm(persons, companies, voc, membership, deals, as_of_ts, _rng(seed, "crm"))
    crm_mod.apply_role_mailboxes(crm, persons, companies, _rng(seed, "roles"))
    files = summary.files
    files["salesforce/Contact.csv"] = _write_csv(
        crm.sf_contacts[crm_mod.SF_CONTACT_COLUMNS], out_dir / "salesforce/Contact.csv"
    )
    files["salesforce/Lead.csv"] = _write_csv(
        crm.sf_leads[crm_mod.SF_LEAD_COLUMNS], out_dir / "salesforce/Lead.csv"
    )
    files["salesforce/Opportunity.csv"] = _write_csv(
        crm.sf_opps[crm_mod.SF_OPPORTUNITY_COLUMNS], out_dir / "salesforce/Opportunity.csv"
    )
    day = as_of_ts.strftime("%Y-%m-%d")
    hs_c = f"hubspot/hubspot-crm-exports-all-contacts-{day}.csv"
    hs_d = f"hubspot/hubspot-crm-exports-all-deals-{day}.csv"
    files[hs_c] = _write_csv(crm.hs_contacts[crm_mod.HS_CONTACT_COLUMNS], out_dir / hs_c)
    say("simulating past campaigns with a holdout")
    prng = _rng(seed, "past_campaigns")
    past = past_mod.simulate(_hubspot_marketing_contacts(crm), _profile_names(profile), as_of_ts, prng)
    company = (
        companies["company"].to_numpy(dtype=object)[persons["company_idx"].to_numpy()]
        + " "
        + companies["suffix"].to_numpy(dtype=object)[persons["company_idx"].to_numpy()]
    )
    hs_deals = pd.concat(
        [
            crm.hs_deals[crm_mod.HS_DEAL_COLUMNS],
            past_mod.hubspot_deals(past, company, 9_900_000_000, vocab.HS_OWNERS[0]),
        ],
        ignore_index=True,
    )
    files[hs_d] = _write_csv(hs_deals, out_dir / hs_d)

    say("building the Mailchimp audience")
    mc_people = np.flatnonzero(membership["in_mc"].to_numpy())
    mc = mc_mod.build_mailchimp(
        persons,
        companies,
        voc,
        mc_people,
        membership["hidden_mc"].to_numpy()[mc_people],
        campaigns,
        as_of_ts,
        _rng(seed, "mailchimp"),
    )
    files.update(mc_mod.write_mailchimp_zip(mc, out_dir / "mailchimp/audience_export.zip", as_of_ts))

    say("building SendGrid events")
    recipients = _recipients(crm, mc, persons)
    persons["burst_webinar"] = assign_bursts(persons, recipients, webinars, _rng(seed, "bursts"))
    invite_of = pd.Series(
        np.flatnonzero(campaigns["webinar"].to_numpy() >= 0),
        index=campaigns["webinar"].to_numpy()[campaigns["webinar"].to_numpy() >= 0],
    )
    burst_w = persons["burst_webinar"].to_numpy()[recipients["person_idx"].to_numpy()]
    recipients["burst_campaign"] = invite_of.reindex(burst_w).fillna(-1).astype(np.int64).to_numpy()
    events = sg_mod.build_events(recipients, campaigns, as_of_ts, _rng(seed, "sendgrid"))
    files.update(sg_mod.write_events(events, recipients, campaigns, out_dir / "sendgrid"))
    files["sendgrid/past_campaigns.json"] = past_mod.write_events(
        past, out_dir / "sendgrid/past_campaigns.json", prng
    )
    files["_history/contact_decisions.csv"] = _write_csv(
        past_mod.history_rows(past), out_dir / "_history/contact_decisions.csv"
    )

    say("building Zoom webinar reports")
    zoom_truth = []
    for number, w in enumerate(
        webinars.itertuples(index=False)
    ):  # a registration and an attendee report each
        row = pd.Series({**w._asdict(), "number": number})
        sections, truth = zoom_mod.build_webinar(row, persons, companies, voc, zrng, as_of_ts)
        generated = min(pd.Timestamp(w.start) + pd.Timedelta(days=1, hours=2), as_of_ts)
        reg_name = f"zoom/{w.webinar_id}_registration_report.csv"
        files[reg_name] = zoom_mod.write_registration_report(sections, out_dir / reg_name, generated)
        if not w.is_upcoming:
            name = f"zoom/{w.webinar_id}_attendee_report.csv"
            files[name] = zoom_mod.write_report(sections, out_dir / name, generated)
        zoom_truth.append(truth)

    say("writing the ground truth")
    _write_truth(out_dir, persons, companies, profile, crm, mc, events, recipients, zoom_truth, past)
    _write_past_campaign_truth(out_dir, persons, past)
    summary.persons = contacts
    summary.elapsed_seconds = time.perf_counter() - started
    return summary


def _profile_names(profile: np.ndarray) -> np.ndarray:
    names = obj([p[0] for p in crm_mod.PROFILES] + ["none"])
    return names[np.where(profile >= 0, profile, len(crm_mod.PROFILES))]


def _hubspot_marketing_contacts(crm: crm_mod.CrmOutput) -> pd.DataFrame:
    """One HubSpot marketing contact with an email per person (not a role mailbox): who past campaigns reached."""
    hs = crm.hs_contacts
    truth = crm.truth[crm.truth["source_system"] == "hubspot"]
    ok = (
        (hs["Marketing contact status"] == "Marketing contact").to_numpy()
        & hs["Email"].notna().to_numpy()
        & (hs["Email"].astype(str).str.strip() != "").to_numpy()
    )
    if "is_role_mailbox" in truth:
        ok &= ~truth["is_role_mailbox"].astype(bool).to_numpy()
    frame = pd.DataFrame(
        {
            "person_idx": truth["person_idx"].to_numpy()[ok],
            "email": _norm(hs["Email"]).to_numpy(dtype=object)[ok],
            "hs_record_id": hs["Record ID"].to_numpy(dtype=object)[ok],
        }
    )
    return frame.drop_duplicates("person_idx").drop_duplicates("email").reset_index(drop=True)


def _write_past_campaign_truth(
    out_dir: Path, persons: pd.DataFrame, past: past_mod.PastCampaignOutput
) -> None:
    effects = past.effects.assign(
        slot_at=pd.DatetimeIndex(past.effects["slot_at"]).strftime("%Y-%m-%d %H:%M:%S")
    )
    _write_csv(effects, out_dir / "_truth/campaign_effects.csv")
    a = past.assignments
    _write_csv(
        pd.DataFrame(
            {
                "person_id": persons["person_id"].to_numpy(dtype=object)[a["person_idx"].to_numpy()],
                "email": a["email"],
                "campaign_id": a["campaign_id"],
                "group": a["group"],
                "converted": np.where(a["converted"], "true", "false"),
            }
        ),
        out_dir / "_truth/campaign_assignments.csv",
    )


def _norm(values) -> pd.Series:
    return pd.Series(values, dtype=object).str.strip().str.lower()


def _recipients(crm: crm_mod.CrmOutput, mc: mc_mod.MailchimpOutput, persons: pd.DataFrame) -> pd.DataFrame:
    """Who marketing email went to: HubSpot marketing contacts and Mailchimp members, one row per address."""
    hs = crm.hs_contacts
    hs_person = crm.truth[crm.truth["source_system"] == "hubspot"]["person_idx"].to_numpy()
    hs_ok = (hs["Marketing contact status"] == "Marketing contact").to_numpy() & hs[
        "Email"
    ].notna().to_numpy()
    emails = np.concatenate(
        [
            _norm(hs["Email"]).to_numpy(dtype=object)[hs_ok],
            _norm(mc.members["Email Address"]).to_numpy(dtype=object),
        ]
    )
    who = np.concatenate([hs_person[hs_ok], mc.truth["person_idx"].to_numpy()])
    first = ~duplicated_first(emails)
    rec = pd.DataFrame({"email": emails[first], "person_idx": who[first]})
    who = rec["person_idx"].to_numpy()
    rec["engagement"] = persons["engagement"].to_numpy()[who]
    rec["opted_out"] = persons["opted_out"].to_numpy()[who]
    rec["quiet_from"] = persons["quiet_from"].to_numpy()[who]
    rec["quiet_to"] = persons["quiet_to"].to_numpy()[who]
    # advocates are in the customer community: they get nearly every campaign
    rec["send_share"] = np.where(persons["is_advocate"].to_numpy()[who], 0.9, np.nan)
    return rec


def _write_truth(
    out_dir: Path,
    persons: pd.DataFrame,
    companies: pd.DataFrame,
    profile: np.ndarray,
    crm: crm_mod.CrmOutput,
    mc: mc_mod.MailchimpOutput,
    events: sg_mod.SendGridEvents,
    recipients: pd.DataFrame,
    zoom_truth: list[pd.DataFrame],
    past: past_mod.PastCampaignOutput | None = None,
) -> None:
    pid = persons["person_id"].to_numpy(dtype=object)
    record_truth = pd.concat([crm.truth, mc.truth], ignore_index=True)
    record_truth["person_id"] = pid[record_truth["person_idx"].to_numpy()]
    # recipients hold one row per address: the events' recipient index stands for the address
    sent_idx = pd.unique(events.recipient.astype(np.int64))  # in order of first appearance
    sent = recipients["email"].to_numpy(dtype=object)[sent_idx]
    sg_person = recipients["person_idx"].to_numpy()[sent_idx]
    sg_truth = pd.DataFrame(
        {
            "source_system": "sendgrid",
            "source_record_id": sent,
            "person_id": pid[sg_person],
            "is_role_mailbox": False,
        }
    )
    if past is not None:  # past campaigns' recipients: SendGrid records too (their events carry the address)
        sent_past = past.assignments[past.assignments["group"] == "treated"].drop_duplicates("email")
        sent_past = sent_past[~sent_past["email"].isin(set(sg_truth["source_record_id"]))]
        sg_truth = pd.concat(
            [
                sg_truth,
                pd.DataFrame(
                    {
                        "source_system": "sendgrid",
                        "source_record_id": sent_past["email"].to_numpy(dtype=object),
                        "person_id": pid[sent_past["person_idx"].to_numpy()],
                        "is_role_mailbox": False,
                    }
                ),
            ],
            ignore_index=True,
        )
    zt = (
        pd.concat(zoom_truth, ignore_index=True)
        if zoom_truth
        else pd.DataFrame(columns=["email", "person_id"])
    )
    zt["source_record_id"] = _norm(zt["email"])
    zt = zt[zt["source_record_id"].notna() & (zt["source_record_id"] != "")].drop_duplicates(
        "source_record_id"
    )
    zt = zt.assign(source_system="zoom", is_role_mailbox=False)
    truth = pd.concat(
        [record_truth[TRUTH_COLUMNS], sg_truth[TRUTH_COLUMNS], zt[TRUTH_COLUMNS]], ignore_index=True
    )
    truth["is_role_mailbox"] = np.where(truth["is_role_mailbox"].astype(bool), "true", "false")
    _write_csv(truth, out_dir / "_truth/ground_truth.csv")
    titles = vocab.TITLES
    comp = persons["company_idx"].to_numpy()
    profiles = obj([p[0] for p in crm_mod.PROFILES] + ["none"])
    true_people = pd.DataFrame(
        {
            "person_id": pid,
            "first_name": persons["first_name"],
            "last_name": persons["last_name"],
            "birth_date": strftime(persons["birth_date"], "%Y-%m-%d"),
            "email_work": persons["email_work"],
            "email_personal": persons["email_personal"],
            "email_old": persons["email_old"],
            "email_hidden": persons["email_hidden"],
            "phone_nsn": persons["phone_nsn"],
            "mobile_nsn": persons["mobile_nsn"],
            "street": persons["street"],
            "city": persons["city"],
            "state": persons["state"],
            "postal_code": persons["postal_code"],
            "country_code": persons["country_code"],
            "time_zone": persons["time_zone"],
            "company": companies["company"].to_numpy(dtype=object)[comp]
            + " "
            + companies["suffix"].to_numpy(dtype=object)[comp],
            "title": obj(t[0] for t in titles)[persons["title_idx"].to_numpy()],
            "seniority": obj(t[1] for t in titles)[persons["title_idx"].to_numpy()],
            "industry": obj(i[0] for i in vocab.INDUSTRIES)[companies["industry_idx"].to_numpy()[comp]],
            "employees": companies["employees"].to_numpy()[comp],
            "buyer_profile": profiles[profile],
            "is_opted_out": np.where(persons["opted_out"], "true", "false"),
            "is_staff": "false",
        }
    )
    staff = zoom_mod.staff_persons().assign(is_staff="true")
    true_people = pd.concat(
        [true_people, staff[["person_id", "first_name", "last_name", "email_work", "is_staff"]]],
        ignore_index=True,
    )
    _write_csv(true_people, out_dir / "_truth/persons.csv")
