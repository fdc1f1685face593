"""Orchestration: population -> source systems -> files, plus the ground truth for scoring identity resolution."""

from __future__ import annotations

import csv
import io
import shutil
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from pipelines.lib.sample_data import crm as crm_mod
from pipelines.lib.sample_data import mailchimp as mc_mod
from pipelines.lib.sample_data import sendgrid as sg_mod
from pipelines.lib.sample_data import vocab
from pipelines.lib.sample_data import zoom as zoom_mod
from pipelines.lib.sample_data.ids import hex_strings, strftime
from pipelines.lib.sample_data.population import Vocab, build_persons, duplicated_first, obj

HISTORY_DAYS = 270
TRUTH_COLUMNS = ["source_system", "source_record_id", "person_id", "is_role_mailbox"]
STREAMS = {"population": 1, "membership": 2, "deals": 3, "crm": 4, "mailchimp": 5, "sendgrid": 6, "zoom": 7,
           "campaigns": 8, "roles": 9}


@dataclass
class GenerationSummary:
    out_dir: Path
    files: dict[str, int] = field(default_factory=dict)  # relative path -> data rows written
    persons: int = 0
    elapsed_seconds: float = 0.0

    def lines(self) -> list[str]:
        out = [f"{path}: {rows} rows" for path, rows in self.files.items()]
        out.append(f"{self.persons} persons, {sum(self.files.values())} rows in {len(self.files)} files, "
                   f"{self.elapsed_seconds:.1f}s")
        return out


def _rng(seed: int, stream: str) -> np.random.Generator:
    return np.random.default_rng([seed, STREAMS[stream]])


def _write_csv(df: pd.DataFrame, path: Path) -> int:
    """RFC 4180 CSV (quotes only where needed, empty for missing), written by DuckDB for speed.

    The header line is written by the csv module so it is never quoted differently from the vendor's.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    body = path.with_name(path.name + ".body")
    con = duckdb.connect()
    try:
        con.execute("SET threads TO 2")
        con.register("frame", df)
        cols = ", ".join(f'nullif(CAST("{c}" AS VARCHAR), \'\') AS "c{i}"' for i, c in enumerate(df.columns))
        con.execute(f"COPY (SELECT {cols} FROM frame) TO '{body}' (FORMAT csv, HEADER false, DELIMITER ',', "
                    "QUOTE '\"', ESCAPE '\"', NEW_LINE '\\n')")
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
    second = np.where(first_sys == 0, np.where(in_hs & in_mc, rng.choice([1, 2], size=n), np.where(in_hs, 1, 2)), 2)
    hidden_sys = np.where(hide, second, -1)
    return pd.DataFrame({
        "in_sf": in_sf, "sf_kind": sf_kind, "in_hs": in_hs, "in_mc": in_mc,
        "deals_in_sf": deals_in_sf, "deals_in_hs": deals_in_hs,
        "hidden_sf": hidden_sys == 0, "hidden_hs": hidden_sys == 1, "hidden_mc": hidden_sys == 2,
    })


def plan_campaigns(as_of: pd.Timestamp, rng: np.random.Generator, count: int = 12) -> pd.DataFrame:
    days = np.linspace(HISTORY_DAYS - 5, 2, count).round().astype(int)
    sent_at = (as_of.normalize() - pd.to_timedelta(days, unit="D") + pd.Timedelta(hours=14)).tz_localize(None)
    themes = obj(vocab.CAMPAIGN_THEMES)[np.arange(count) % len(vocab.CAMPAIGN_THEMES)]
    cats = []
    for k in range(count):
        c1 = vocab.EMAIL_CATEGORIES[int(rng.integers(0, len(vocab.EMAIL_CATEGORIES)))]
        c2 = vocab.EMAIL_CATEGORIES[int(rng.integers(0, len(vocab.EMAIL_CATEGORIES)))]
        cats.append(c1 if (k % 3 == 0 or c1 == c2) else [c1, c2])  # a string or an array, as SendGrid sends
    slug = pd.Series(themes, dtype=object).str.lower().str.replace(" ", "-", regex=False).to_numpy(dtype=object)
    ids = "cmp-" + strftime(sent_at, "%Y%m%d") + "-" + slug
    return pd.DataFrame({
        "campaign_id": ids, "title": themes + " " + pd.Series(sent_at).dt.strftime("%b %Y").to_numpy(dtype=object),
        "sent_at": sent_at, "categories": cats, "mailchimp_id": hex_strings(rng, count, 10),
    })


def generate(out_dir: Path, contacts: int = 2000, seed: int = 42, as_of: datetime | None = None,
             progress: Callable[[str], None] | None = None) -> GenerationSummary:
    """Write a realistic, fragmented set of exports for `contacts` true persons into out_dir.

    Deterministic for (contacts, seed, as_of); as_of defaults to now (UTC) and the history covers about
    nine months before it.
    """
    # Object (Python str) columns are several times faster here than Arrow-backed strings, which pandas 3
    # infers by default; the option is scoped to this call.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pd.option_context("future.infer_string", False):
            return _generate(out_dir, contacts, seed, as_of, progress)


def _generate(out_dir: Path, contacts: int, seed: int, as_of: datetime | None,
              progress: Callable[[str], None] | None) -> GenerationSummary:
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
    membership = plan_membership(persons, deals, _rng(seed, "membership"))
    campaigns = plan_campaigns(as_of_ts, _rng(seed, "campaigns"))

    say("projecting persons into Salesforce and HubSpot")
    crm = crm_mod.build_crm(persons, companies, voc, membership, deals, as_of_ts, _rng(seed, "crm"))
    crm_mod.apply_role_mailboxes(crm, persons, companies, _rng(seed, "roles"))
    files = summary.files
    files["salesforce/Contact.csv"] = _write_csv(crm.sf_contacts[crm_mod.SF_CONTACT_COLUMNS], out_dir / "salesforce/Contact.csv")
    files["salesforce/Lead.csv"] = _write_csv(crm.sf_leads[crm_mod.SF_LEAD_COLUMNS], out_dir / "salesforce/Lead.csv")
    files["salesforce/Opportunity.csv"] = _write_csv(crm.sf_opps[crm_mod.SF_OPPORTUNITY_COLUMNS],
                                                     out_dir / "salesforce/Opportunity.csv")
    day = as_of_ts.strftime("%Y-%m-%d")
    hs_c = f"hubspot/hubspot-crm-exports-all-contacts-{day}.csv"
    hs_d = f"hubspot/hubspot-crm-exports-all-deals-{day}.csv"
    files[hs_c] = _write_csv(crm.hs_contacts[crm_mod.HS_CONTACT_COLUMNS], out_dir / hs_c)
    files[hs_d] = _write_csv(crm.hs_deals[crm_mod.HS_DEAL_COLUMNS], out_dir / hs_d)

    say("building the Mailchimp audience")
    mc_people = np.flatnonzero(membership["in_mc"].to_numpy())
    mc = mc_mod.build_mailchimp(persons, companies, voc, mc_people, membership["hidden_mc"].to_numpy()[mc_people],
                                campaigns, as_of_ts, _rng(seed, "mailchimp"))
    files.update(mc_mod.write_mailchimp_zip(mc, out_dir / "mailchimp/audience_export.zip", as_of_ts))

    say("building SendGrid events")
    recipients = _recipients(crm, mc, persons)
    events = sg_mod.build_events(recipients, campaigns, as_of_ts, _rng(seed, "sendgrid"))
    files.update(sg_mod.write_events(events, campaigns, out_dir / "sendgrid"))

    say("building Zoom webinar reports")
    zrng = _rng(seed, "zoom")
    webinars = zoom_mod.plan_webinars(contacts, as_of_ts, zrng)
    zoom_truth = []
    for w in webinars.itertuples(index=False):  # 4-8 webinars: one file each
        sections, truth = zoom_mod.build_webinar(pd.Series(w._asdict()), persons, companies, voc, zrng)
        name = f"zoom/{w.webinar_id}_attendee_report.csv"
        generated = pd.Timestamp(w.start) + pd.Timedelta(days=1, hours=2)
        files[name] = zoom_mod.write_report(sections, out_dir / name, min(generated, as_of_ts))
        zoom_truth.append(truth)

    say("writing the ground truth")
    _write_truth(out_dir, persons, companies, profile, crm, mc, events, recipients, zoom_truth)
    summary.persons = contacts
    summary.elapsed_seconds = time.perf_counter() - started
    return summary


def _norm(values) -> pd.Series:
    return pd.Series(values, dtype=object).str.strip().str.lower()


def _recipients(crm: crm_mod.CrmOutput, mc: mc_mod.MailchimpOutput, persons: pd.DataFrame) -> pd.DataFrame:
    """Who marketing email went to: HubSpot marketing contacts and Mailchimp members, one row per address."""
    hs = crm.hs_contacts
    hs_person = crm.truth[crm.truth["source_system"] == "hubspot"]["person_idx"].to_numpy()
    hs_ok = (hs["Marketing contact status"] == "Marketing contact").to_numpy() & hs["Email"].notna().to_numpy()
    emails = np.concatenate([_norm(hs["Email"]).to_numpy(dtype=object)[hs_ok],
                             _norm(mc.members["Email Address"]).to_numpy(dtype=object)])
    who = np.concatenate([hs_person[hs_ok], mc.truth["person_idx"].to_numpy()])
    first = ~duplicated_first(emails)
    rec = pd.DataFrame({"email": emails[first], "person_idx": who[first]})
    rec["engagement"] = persons["engagement"].to_numpy()[rec["person_idx"].to_numpy()]
    rec["opted_out"] = persons["opted_out"].to_numpy()[rec["person_idx"].to_numpy()]
    return rec


def _write_truth(out_dir: Path, persons: pd.DataFrame, companies: pd.DataFrame, profile: np.ndarray,
                 crm: crm_mod.CrmOutput, mc: mc_mod.MailchimpOutput, events: pd.DataFrame,
                 recipients: pd.DataFrame, zoom_truth: list[pd.DataFrame]) -> None:
    pid = persons["person_id"].to_numpy(dtype=object)
    record_truth = pd.concat([crm.truth, mc.truth], ignore_index=True)
    record_truth["person_id"] = pid[record_truth["person_idx"].to_numpy()]
    # recipients hold one row per address: the events' recipient index stands for the address
    sent_idx = pd.unique(events["recipient"].to_numpy())  # in order of first appearance
    sent = recipients["email"].to_numpy(dtype=object)[sent_idx]
    sg_person = recipients["person_idx"].to_numpy()[sent_idx]
    sg_truth = pd.DataFrame({"source_system": "sendgrid", "source_record_id": sent,
                             "person_id": pid[sg_person], "is_role_mailbox": False})
    zt = pd.concat(zoom_truth, ignore_index=True) if zoom_truth else pd.DataFrame(columns=["email", "person_id"])
    zt["source_record_id"] = _norm(zt["email"])
    zt = zt[zt["source_record_id"].notna() & (zt["source_record_id"] != "")].drop_duplicates("source_record_id")
    zt = zt.assign(source_system="zoom", is_role_mailbox=False)
    truth = pd.concat([record_truth[TRUTH_COLUMNS], sg_truth[TRUTH_COLUMNS], zt[TRUTH_COLUMNS]], ignore_index=True)
    truth["is_role_mailbox"] = np.where(truth["is_role_mailbox"].astype(bool), "true", "false")
    _write_csv(truth, out_dir / "_truth/ground_truth.csv")
    titles = vocab.TITLES
    comp = persons["company_idx"].to_numpy()
    profiles = obj([p[0] for p in crm_mod.PROFILES] + ["none"])
    true_people = pd.DataFrame({
        "person_id": pid,
        "first_name": persons["first_name"], "last_name": persons["last_name"],
        "birth_date": strftime(persons["birth_date"], "%Y-%m-%d"),
        "email_work": persons["email_work"], "email_personal": persons["email_personal"],
        "email_old": persons["email_old"], "email_hidden": persons["email_hidden"],
        "phone_nsn": persons["phone_nsn"], "mobile_nsn": persons["mobile_nsn"],
        "street": persons["street"], "city": persons["city"], "state": persons["state"],
        "postal_code": persons["postal_code"], "country_code": persons["country_code"],
        "time_zone": persons["time_zone"],
        "company": companies["company"].to_numpy(dtype=object)[comp] + " " + companies["suffix"].to_numpy(dtype=object)[comp],
        "title": obj(t[0] for t in titles)[persons["title_idx"].to_numpy()],
        "seniority": obj(t[1] for t in titles)[persons["title_idx"].to_numpy()],
        "industry": obj(i[0] for i in vocab.INDUSTRIES)[companies["industry_idx"].to_numpy()[comp]],
        "employees": companies["employees"].to_numpy()[comp],
        "buyer_profile": profiles[profile],
        "is_opted_out": np.where(persons["opted_out"], "true", "false"),
        "is_staff": "false",
    })
    staff = zoom_mod.staff_persons().assign(is_staff="true")
    true_people = pd.concat([true_people, staff[["person_id", "first_name", "last_name", "email_work", "is_staff"]]],
                            ignore_index=True)
    _write_csv(true_people, out_dir / "_truth/persons.csv")
