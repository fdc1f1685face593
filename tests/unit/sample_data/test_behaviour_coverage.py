"""The demo data exercises the insight definitions (config/insight.yaml): recent and upcoming webinars, weeks of
unusually high engagement, leads that state budget and timeframe with senior titles, advocates, quiet lapsed
customers. Measured on the exported files joined to the ground truth, the way the pipeline would see them."""

from __future__ import annotations

import csv
import io
import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import yaml

from pipelines.lib.ingest.loader import ingest_folder
from touchplan_sample_data import generate, vocab, zoom
from touchplan_sample_data.generator import plan_campaigns

AS_OF = datetime(2026, 11, 20, 10, 15, tzinfo=UTC)
AS_OF_NAIVE = pd.Timestamp(AS_OF).tz_localize(None)
CONTACTS = 1500
INSIGHT = yaml.safe_load(
    (Path(__file__).resolve().parents[3] / "config/insight.yaml").read_text(encoding="utf-8")
)


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("behaviour")
    generate(folder, contacts=CONTACTS, seed=11, as_of=AS_OF)
    return folder


def _section(path: Path, title: str) -> list[dict[str, str]]:
    """The rows of one section of a Zoom report (header line after the section title, up to the next title)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.split(",")[0] == title)
    end = next(
        (
            i
            for i in range(start + 2, len(lines))
            if lines[i].rstrip(",") and "," not in lines[i].rstrip(",") and lines[i].endswith(",")
        ),
        len(lines),
    )
    return list(csv.DictReader(io.StringIO("\n".join(lines[start + 1 : end]))))


def _summary(path: Path) -> dict[str, str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(csv.DictReader(io.StringIO("\n".join(lines[2:4]))))


def _zoom_time(value: str) -> pd.Timestamp:
    return pd.to_datetime(value, format=zoom.ZOOM_TIME)


@pytest.fixture(scope="module")
def touches(out) -> duckdb.DuckDBPyConnection:
    """Every engaged touch (open, click, registered, attended) per true person, from the exported files."""
    con = duckdb.connect()
    con.execute(
        f"create table truth as select * from read_csv('{out}/_truth/ground_truth.csv', all_varchar=true)"
    )
    con.execute(
        f"create table persons as select * from read_csv('{out}/_truth/persons.csv', all_varchar=true)"
    )
    con.execute(f"""create table email as select lower(trim(email)) as email, event as touch_type,
                    to_timestamp(timestamp)::timestamp as touched_at
                    from read_json('{out}/sendgrid/events*.json', format='array',
                                   columns={{'email': 'VARCHAR', 'event': 'VARCHAR', 'timestamp': 'BIGINT'}})
                    where event in ('open', 'click')""")
    rows = []
    for path in sorted((out / "zoom").glob("*_registration_report.csv")):
        rows += [
            (r["Email"].strip().lower(), "registered", _zoom_time(r["Registration Time"]))
            for r in _section(path, "Registrant Details")
        ]
    for path in sorted((out / "zoom").glob("*_attendee_report.csv")):
        first = {}
        for r in _section(path, "Attendee Details"):
            if r["Attended"] == "Yes":
                key = r["Email"].strip().lower()
                first[key] = min(first.get(key, _zoom_time(r["Join Time"])), _zoom_time(r["Join Time"]))
        rows += [(email, "attended", at) for email, at in first.items()]
    con.register("zoom_frame", pd.DataFrame(rows, columns=["email", "touch_type", "touched_at"]))
    con.execute("""create table touch as
        select t.person_id, e.touch_type, e.touched_at from email e
        join truth t on t.source_system = 'sendgrid' and t.source_record_id = e.email
        union all
        select t.person_id, z.touch_type, z.touched_at from zoom_frame z
        join (select distinct source_record_id, person_id from truth where source_system = 'zoom') t
          on t.source_record_id = z.email""")
    return con


def test_webinars_run_until_the_last_weeks_and_one_is_upcoming(out):
    attendee = sorted((out / "zoom").glob("*_attendee_report.csv"))
    starts = sorted(_zoom_time(_summary(p)["Actual Start Time"]) for p in attendee)
    assert starts[-1] > AS_OF_NAIVE - pd.Timedelta(days=30), "a webinar took place in the last 30 days"
    assert starts[-1] < AS_OF_NAIVE
    assert starts[0] < AS_OF_NAIVE - pd.Timedelta(days=180), "and webinars go back several months"
    registration = sorted((out / "zoom").glob("*_registration_report.csv"))
    assert len(registration) == len(attendee) + 1
    upcoming = [p for p in registration if _zoom_time(_summary(p)["Scheduled Time"]) > AS_OF_NAIVE]
    assert len(upcoming) == 1
    registrants = _section(upcoming[0], "Registrant Details")
    assert registrants and all(_zoom_time(r["Registration Time"]) <= AS_OF_NAIVE for r in registrants)
    assert not (out / "zoom" / upcoming[0].name.replace("registration", "attendee")).exists()


def test_registration_reports_load_through_the_zoom_parser(out, tmp_path):
    exports = tmp_path / "exports"
    shutil.copytree(out / "zoom", exports / "zoom")
    con = duckdb.connect()
    report = ingest_folder(con, exports)
    reg_files = [f for f in report.files if f.path.endswith("_registration_report.csv")]
    assert reg_files and all(f.status == "loaded" and f.rows_quarantined == 0 for f in reg_files)
    expected = sum(len(_section(out / f.path, "Registrant Details")) for f in reg_files)
    assert report.table_counts["raw_webinar_registrations"] == expected
    upcoming = con.execute(
        "select count(*) from raw_webinar_registrations where webinar_start_at > ?", [AS_OF_NAIVE]
    ).fetchall()[0][0]
    assert upcoming > 0


def test_every_webinar_has_an_invitation_in_its_week_sent_by_as_of():
    for as_of in (
        pd.Timestamp("2026-11-20 10:15"),
        pd.Timestamp("2026-11-16 09:00"),
        pd.Timestamp("2026-03-04"),
    ):
        rng = np.random.default_rng(5)
        webinars = zoom.plan_webinars(2000, as_of, rng)
        campaigns = plan_campaigns(as_of, webinars, rng)
        assert (campaigns["sent_at"] <= as_of).all()
        invites = campaigns[campaigns["webinar"] >= 0]
        assert sorted(invites["webinar"]) == list(range(len(webinars)))
        for w, sent in zip(invites["webinar"], invites["sent_at"], strict=True):
            start = pd.Timestamp(webinars["start"].iloc[w])
            if webinars["is_upcoming"].iloc[w]:
                assert start > as_of and sent <= as_of
            else:
                assert sent.to_period("W") == start.to_period("W") and sent < start
        assert campaigns["campaign_id"].is_unique


def test_some_persons_have_a_week_of_unusually_high_engagement(touches):
    rule = INSIGHT["moments"]["high_engagement"]
    share = touches.execute(f"""
        with weekly as (
            select person_id, date_trunc('week', touched_at) as week, count(*) as n from touch
            where touch_type in ({", ".join(repr(t) for t in rule["touch_types"])})
            group by all
        ),
        scored as (
            select person_id, n,
                coalesce((sum(n) over (partition by person_id) - n)
                         / nullif(count(*) over (partition by person_id) - 1, 0), 0) as baseline
            from weekly
        )
        select count(distinct person_id) filter (where n >= {rule["min_touches"]}
                                                 and n >= {rule["baseline_multiple"]} * baseline) / {CONTACTS}
        from scored""").fetchall()[0][0]
    assert 0.02 <= share <= 0.2, f"{share:.1%} of persons have a high-engagement week"
    # and bursts of at least three engaged touches in a week are common among engaged persons
    bursts = touches.execute("""select count(*) from (select person_id from touch
                                group by person_id, date_trunc('week', touched_at) having count(*) >= 3)""").fetchall()[
        0
    ][0]
    assert bursts >= 0.05 * CONTACTS


def test_leads_state_a_near_timeframe_and_budget_and_some_have_senior_titles(out):
    leads = pd.read_csv(out / "salesforce/Lead.csv", dtype=str, keep_default_na=False)
    truth = pd.read_csv(out / "_truth/ground_truth.csv", dtype=str)
    people = pd.read_csv(out / "_truth/persons.csv", dtype=str)
    leads = leads.merge(
        truth[truth["source_system"] == "salesforce"], left_on="Id", right_on="source_record_id"
    )
    leads = leads.merge(people[["person_id", "seniority"]], on="person_id")
    near_words = INSIGHT["lead_scoring"]["timeframe"]["stated_levels"][0]["keywords"]
    norm = leads["Purchase_Timeframe__c"].str.lower().str.replace(r"[^a-z0-9]+", " ", regex=True).str.strip()
    near = norm.apply(lambda v: any(f" {w.replace('-', ' ')} " in f" {v} " for w in near_words))
    budget = pd.to_numeric(leads["Budget__c"], errors="coerce").fillna(0) >= 10_000
    senior = leads["seniority"].isin(["c_level", "vp", "director"])
    ready = near & budget & senior & (leads["Product_Interest__c"] != "")
    assert ready.sum() >= 0.003 * CONTACTS, (
        "leads with a stated need, near timeframe, budget and a senior title"
    )
    # every stated timeframe is one the insight keywords know (no value that silently scores zero)
    all_words = [
        w.replace("-", " ")
        for level in INSIGHT["lead_scoring"]["timeframe"]["stated_levels"]
        for w in level["keywords"]
    ]
    stated = norm[(norm != "") & (norm != "no timeframe")]
    assert stated.apply(lambda v: any(f" {w} " in f" {v} " for w in all_words)).all()
    assert set(vocab.TIMEFRAMES) >= set(leads["Purchase_Timeframe__c"]) - {""}


def _won_deals(out: Path) -> pd.DataFrame:
    truth = pd.read_csv(out / "_truth/ground_truth.csv", dtype=str)
    opps = pd.read_csv(out / "salesforce/Opportunity.csv", dtype=str)
    sf = opps[opps["IsWon"] == "true"].merge(truth, left_on="ContactId", right_on="source_record_id")
    hs = pd.read_csv(next((out / "hubspot").glob("*deals*.csv")), dtype=str)
    hs = hs[hs["Deal Stage"] == "Closed Won"].assign(
        contact=hs["Associated Contact IDs"].str.split(";").str[0]
    )
    hs = hs.merge(truth, left_on="contact", right_on="source_record_id")
    return pd.concat(
        [
            sf[["person_id", "CloseDate"]].rename(columns={"CloseDate": "closed"}),
            hs[["person_id", "Close Date"]].rename(columns={"Close Date": "closed"}),
        ]
    )


def test_repeat_buyers_who_stay_engaged_exist_advocates(out, touches):
    rule = INSIGHT["lifecycle"]["customer"]["advocate"]
    engaged_types = [
        t
        for t in INSIGHT["lifecycle"]["lead"]["engaged_touch_types"]
        if t in ("click", "registered", "attended")
    ]
    won = _won_deals(out).groupby("person_id").size()
    buyers = won[won >= rule["min_purchases"]].index
    touches.register("buyers", pd.DataFrame({"person_id": buyers}))
    engaged = touches.execute(
        f"""
        select count(*) from (
            select person_id from touch join buyers using (person_id)
            where touch_type in ({", ".join(repr(t) for t in engaged_types)})
              and touched_at > ?::timestamp - interval ({rule["window_days"]}) day
            group by person_id having count(*) >= {rule["min_engaged_touches"]})""",
        [AS_OF_NAIVE],
    ).fetchall()[0][0]
    assert engaged >= 0.01 * CONTACTS, f"{engaged} repeat buyers with enough engaged touches"
    hubspot = pd.read_csv(next((out / "hubspot").glob("*contacts*.csv")), dtype=str)
    assert (hubspot["Lifecycle Stage"] == "Evangelist").sum() >= 10


def test_lapsed_customers_stay_quiet_and_engaged_prospects_are_recent(touches):
    lapsed_days = INSIGHT["lifecycle"]["customer"]["lapsed_days"]
    lapsed_active = touches.execute(
        f"""
        select count(distinct person_id) from touch join persons using (person_id)
        where buyer_profile = 'lapsed' and touched_at > ?::timestamp - interval ({lapsed_days}) day""",
        [AS_OF_NAIVE],
    ).fetchall()[0][0]
    assert lapsed_active == 0
    recent_hot = touches.execute(
        """
        select count(distinct person_id) filter (where touched_at > ?::timestamp - interval 30 day)
               / count(distinct person_id)
        from touch join persons using (person_id) where buyer_profile = 'hot_lead'""",
        [AS_OF_NAIVE],
    ).fetchall()[0][0]
    assert recent_hot > 0.6
