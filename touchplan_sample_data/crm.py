"""Salesforce (Contact, Lead, Opportunity) and HubSpot (contacts, deals) exports, and the true deal history."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from touchplan_sample_data import vocab
from touchplan_sample_data.ids import (
    fmt_datetime,
    fmt_salesforce_datetime,
    pick,
    salesforce_ids,
    strftime,
)
from touchplan_sample_data.population import Vocab, obj
from touchplan_sample_data.variation import Style, project

SF_CONTACT_COLUMNS = [
    "Id",
    "IsDeleted",
    "MasterRecordId",
    "AccountId",
    "LastName",
    "FirstName",
    "Salutation",
    "Name",
    "MailingStreet",
    "MailingCity",
    "MailingState",
    "MailingPostalCode",
    "MailingCountry",
    "Phone",
    "MobilePhone",
    "Email",
    "Title",
    "Department",
    "LeadSource",
    "Birthdate",
    "HasOptedOutOfEmail",
    "DoNotCall",
    "OwnerId",
    "CreatedDate",
    "LastModifiedDate",
    "Product_Interest__c",
    "Purchase_Timeframe__c",
    "HubSpot_Contact_ID__c",
]
SF_LEAD_COLUMNS = [
    "Id",
    "IsDeleted",
    "MasterRecordId",
    "LastName",
    "FirstName",
    "Salutation",
    "Name",
    "Title",
    "Company",
    "Street",
    "City",
    "State",
    "PostalCode",
    "Country",
    "Phone",
    "MobilePhone",
    "Email",
    "LeadSource",
    "Status",
    "Industry",
    "Rating",
    "AnnualRevenue",
    "NumberOfEmployees",
    "HasOptedOutOfEmail",
    "DoNotCall",
    "OwnerId",
    "IsConverted",
    "ConvertedDate",
    "ConvertedAccountId",
    "ConvertedContactId",
    "ConvertedOpportunityId",
    "CreatedDate",
    "LastModifiedDate",
    "Product_Interest__c",
    "Purchase_Timeframe__c",
    "Budget__c",
]
SF_OPPORTUNITY_COLUMNS = [
    "Id",
    "IsDeleted",
    "AccountId",
    "ContactId",
    "Name",
    "Description",
    "StageName",
    "Amount",
    "Probability",
    "CloseDate",
    "Type",
    "LeadSource",
    "IsClosed",
    "IsWon",
    "ForecastCategory",
    "CurrencyIsoCode",
    "CreatedDate",
    "LastModifiedDate",
    "Product__c",
]
HS_CONTACT_COLUMNS = [
    "Record ID",
    "First Name",
    "Last Name",
    "Email",
    "Phone Number",
    "Mobile Phone Number",
    "Job Title",
    "Company Name",
    "Street Address",
    "City",
    "State/Region",
    "Postal Code",
    "Country/Region",
    "Date of birth",
    "Lifecycle Stage",
    "Lead Status",
    "Marketing contact status",
    "Unsubscribed from all email",
    "Industry",
    "Number of Employees",
    "Annual Revenue",
    "Time Zone",
    "Salesforce Contact ID",
    "Create Date",
    "Last Modified Date",
    "Contact owner",
]
HS_DEAL_COLUMNS = [
    "Record ID",
    "Deal Name",
    "Deal Stage",
    "Amount",
    "Close Date",
    "Create Date",
    "Pipeline",
    "Deal owner",
    "Associated Contact IDs",
    "Associated Company",
]

# profile, share of persons, won deals (min, max), days before as-of of the last won deal (min, max)
PROFILES = [
    ("new", 0.03, (1, 1), (0, 45)),
    ("active", 0.04, (1, 2), (46, 150)),
    ("repeat", 0.04, (2, 4), (0, 120)),
    ("lapsing", 0.025, (1, 2), (151, 270)),
    ("lapsed", 0.03, (1, 2), (300, 540)),
    ("reactivated", 0.015, (2, 2), (0, 60)),
    ("open", 0.05, (0, 0), (0, 0)),
    ("lost", 0.03, (0, 0), (0, 0)),
    # repeat buyers who stay engaged (clicks, webinars, Evangelist in HubSpot, guest speakers): advocates
    ("advocate", 0.025, (2, 4), (0, 40)),
    # prospects without a deal yet who engage a lot and state budget, need and timeframe: MQL / SQL material
    ("hot_lead", 0.06, (0, 0), (0, 0)),
]
NO_DEAL_PROFILES = ("hot_lead",)
SF_OPEN_STAGES = [
    ("Prospecting", 10, "Pipeline"),
    ("Qualification", 20, "Pipeline"),
    ("Needs Analysis", 30, "Pipeline"),
    ("Value Proposition", 50, "Best Case"),
    ("Proposal/Price Quote", 75, "Commit"),
    ("Negotiation/Review", 90, "Commit"),
]
HS_OPEN_STAGES = [
    "Appointment Scheduled",
    "Qualified To Buy",
    "Presentation Scheduled",
    "Decision Maker Bought-In",
    "Contract Sent",
]


def assign_profiles(n: int, rng: np.random.Generator) -> np.ndarray:
    shares = np.array([p[1] for p in PROFILES])
    choices = np.append(np.arange(len(PROFILES)), -1)
    probs = np.append(shares, 1 - shares.sum())
    return rng.choice(choices, size=n, p=probs)


def build_deals(profile: np.ndarray, as_of: pd.Timestamp, rng: np.random.Generator) -> pd.DataFrame:
    """The true deal history of every buying person: won, open and lost deals with dates and amounts."""
    frames = []
    for k, (name, _share, (lo, hi), (dlo, dhi)) in enumerate(PROFILES):
        who = np.flatnonzero(profile == k)
        if len(who) == 0 or name in NO_DEAL_PROFILES:
            continue
        if name in ("open", "lost"):
            person = who
            created_days = rng.integers(5, 250, size=len(who))
            if name == "open":
                close_days = -rng.integers(10, 90, size=len(who))  # in the future
                created_days = rng.integers(3, 60, size=len(who))
            else:
                close_days = np.maximum(created_days - rng.integers(10, 60, size=len(who)), 0)
            outcome = np.full(len(who), name, dtype=object)
        else:
            count = rng.integers(lo, hi + 1, size=len(who))
            person = np.repeat(who, count)
            # order within a person: 0 = most recent deal
            seq = np.arange(len(person)) - np.repeat(np.cumsum(count) - count, count)
            last_days = np.repeat(rng.integers(dlo, dhi + 1, size=len(who)), count)
            gap = rng.integers(30, 120, size=len(person))
            if name == "reactivated":
                gap = np.where(seq > 0, rng.integers(330, 480, size=len(person)), 0)
            close_days = last_days + seq * gap
            created_days = close_days + rng.integers(14, 75, size=len(person))
            outcome = np.full(len(person), "won", dtype=object)
        frames.append(
            pd.DataFrame(
                {
                    "person_idx": person,
                    "profile": name,
                    "outcome": outcome,
                    "close_date": (as_of - pd.to_timedelta(close_days, unit="D")).normalize(),
                    "created_at": as_of
                    - pd.to_timedelta(created_days, unit="D")
                    - pd.to_timedelta(rng.integers(0, 86_400, size=len(person)), unit="s"),
                }
            )
        )
    deals = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=["person_idx", "profile", "outcome", "close_date", "created_at"])
    )
    # some customers also have a lost or open deal on the side
    n = len(deals)
    deals["amount"] = np.round(np.exp(rng.normal(9.3, 0.8, size=n)), -2).clip(500, 250_000)
    deals["product"] = pick(rng, vocab.PRODUCTS, n, [0.35, 0.2, 0.15, 0.15, 0.15])
    deals["currency"] = pick(rng, ["USD", "EUR", "GBP"], n, [0.6, 0.3, 0.1])
    deals = deals.sort_values(["person_idx", "close_date"], kind="stable").reset_index(drop=True)
    deals["deal_seq"] = deals.groupby("person_idx").cumcount()
    return deals


@dataclass
class CrmOutput:
    sf_contacts: pd.DataFrame
    sf_leads: pd.DataFrame
    sf_opps: pd.DataFrame
    hs_contacts: pd.DataFrame
    hs_deals: pd.DataFrame
    truth: pd.DataFrame  # source_system, source_record_id, person_idx, is_role_mailbox


def _bool(values) -> np.ndarray:
    return np.where(np.asarray(values, dtype=bool), "true", "false").astype(object)


def _salutation(first_idx: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    sal = pick(
        rng, ["Mr.", "Ms.", "Mrs.", "Dr.", "Prof.", ""], len(first_idx), [0.3, 0.3, 0.05, 0.05, 0.01, 0.29]
    )
    return sal


def _record_times(n: int, as_of: pd.Timestamp, rng: np.random.Generator, max_days: int = 270):
    created = as_of - pd.to_timedelta(rng.integers(0, max_days * 86_400, size=n), unit="s")
    # a tenth of CRM records are older than the observed window
    old = rng.random(n) < 0.1
    created = (
        pd.Series(created)
        .where(
            ~old, as_of - pd.to_timedelta(rng.integers(max_days * 86_400, 3 * 365 * 86_400, size=n), unit="s")
        )
        .dt.floor("s")
    )
    modified = created + pd.to_timedelta(
        (rng.random(n) * (as_of - created).dt.total_seconds()).astype(np.int64), unit="s"
    )
    return created.dt.floor("s"), pd.Series(modified).dt.floor("s")


def _flag(persons: pd.DataFrame, column: str, sel: np.ndarray) -> np.ndarray:
    return persons[column].to_numpy()[sel] if column in persons else np.zeros(len(sel), dtype=bool)


def _state_bant(frame: pd.DataFrame, hot: np.ndarray, rng: np.random.Generator, budget: bool) -> None:
    """Engaged prospects told sales what they need, when and (on leads) with what budget: most of them fill
    Product_Interest__c and a near Purchase_Timeframe__c, and Budget__c in the tens of thousands."""
    n = int(hot.sum())
    if not n:
        return
    rows = np.flatnonzero(hot)
    interest = rng.random(n) < 0.85
    frame.loc[rows[interest], "Product_Interest__c"] = pick(rng, vocab.PRODUCTS, int(interest.sum()))
    near = rng.random(n) < 0.8
    frame.loc[rows[near], "Purchase_Timeframe__c"] = pick(
        rng, vocab.TIMEFRAMES[:3], int(near.sum()), [0.3, 0.45, 0.25]
    )
    if budget:
        stated = rng.random(n) < 0.7
        amount = np.round(np.exp(rng.normal(10.4, 0.6, size=int(stated.sum()))), -3).astype(np.int64)
        frame.loc[rows[stated], "Budget__c"] = amount.astype(str)


def build_crm(
    persons: pd.DataFrame,
    companies: pd.DataFrame,
    voc: Vocab,
    membership: pd.DataFrame,
    deals: pd.DataFrame,
    as_of: pd.Timestamp,
    rng: np.random.Generator,
) -> CrmOutput:
    """membership: per person in_sf, sf_kind (contact | lead | converted), in_hs, hidden_sf, hidden_hs."""
    n_companies = len(companies)
    account_ids = salesforce_ids("001", n_companies, rng)
    sf = membership[membership["in_sf"]]
    sf_kind = sf["sf_kind"].to_numpy()
    contact_people = sf.index.to_numpy()[np.isin(sf_kind, ["contact", "converted"])]
    lead_people = sf.index.to_numpy()[np.isin(sf_kind, ["lead", "converted"])]
    sf_style = Style(missing_phone=0.3, country_styles=[0.5, 0.15, 0.1, 0.0, 0.25, 0.0])
    # duplicates inside Salesforce: a second Contact (or Lead) for the same person
    dup_c = contact_people[rng.random(len(contact_people)) < 0.04]
    dup_l = lead_people[rng.random(len(lead_people)) < 0.03]
    c_sel = np.concatenate([contact_people, dup_c])
    l_sel = np.concatenate([lead_people, dup_l])
    hidden_sf = membership["hidden_sf"].to_numpy()
    c = project(persons, companies, voc, c_sel, rng, sf_style, hidden_sf[c_sel])
    lead_style = Style(
        missing_phone=0.35, missing_address=0.35, country_styles=[0.4, 0.2, 0.1, 0.0, 0.3, 0.0]
    )
    ld = project(persons, companies, voc, l_sel, rng, lead_style, hidden_sf[l_sel])
    nc, nl = len(c), len(ld)
    contact_ids = salesforce_ids("003", nc, rng)
    lead_ids = salesforce_ids("00Q", nl, rng)
    c_is_dup = np.arange(nc) >= len(contact_people)
    l_is_dup = np.arange(nl) >= len(lead_people)
    # survivor record per person = the first contact/lead for that person
    survivor_c = pd.Series(contact_ids[: len(contact_people)], index=contact_people)
    survivor_l = pd.Series(lead_ids[: len(lead_people)], index=lead_people)
    merged_c = c_is_dup & (rng.random(nc) < 0.4)
    merged_l = l_is_dup & (rng.random(nl) < 0.4)
    master_c = np.where(merged_c, survivor_c.reindex(c_sel).to_numpy(dtype=object), "")
    master_l = np.where(merged_l, survivor_l.reindex(l_sel).to_numpy(dtype=object), "")
    p_c = persons.iloc[c_sel]
    p_l = persons.iloc[l_sel]
    opted = persons["opted_out"].to_numpy()
    titles_dept = obj(t[2] for t in vocab.TITLES)
    created_c, modified_c = _record_times(nc, as_of, rng)
    created_l, modified_l = _record_times(nl, as_of, rng)
    # opportunities for deals placed in Salesforce (need a Contact)
    deal_in_sf = membership["deals_in_sf"].to_numpy()[deals["person_idx"].to_numpy()]
    deal_in_hs = membership["deals_in_hs"].to_numpy()[deals["person_idx"].to_numpy()]
    sf_deals = deals[deal_in_sf].reset_index(drop=True)
    hs_deals_true = deals[deal_in_hs].reset_index(drop=True)
    opp_ids = salesforce_ids("006", len(sf_deals), rng)
    # hubspot ids are needed for cross references
    hs = membership[membership["in_hs"]]
    hs_people = hs.index.to_numpy()
    dup_h = hs_people[rng.random(len(hs_people)) < 0.04]
    h_sel = np.concatenate([hs_people, dup_h])
    nh = len(h_sel)
    hs_ids = (51_000_000_000 + np.cumsum(rng.integers(1, 5000, size=nh))).astype(np.int64)
    hs_ids = hs_ids[rng.permutation(nh)]
    hs_first_id = pd.Series(hs_ids[: len(hs_people)], index=hs_people)
    # ---- Salesforce Contact
    c_hs_xref = hs_first_id.reindex(c_sel).to_numpy()
    use_xref = ~np.isnan(c_hs_xref) & (rng.random(nc) < 0.3) & ~c["hidden"].to_numpy()
    hs_xref_str = np.where(use_xref, pd.Series(c_hs_xref).fillna(0).astype(np.int64).astype(str), "")
    opt_c = opted[c_sel] & (rng.random(nc) < 0.6)
    sal_c = _salutation(p_c["first_idx"].to_numpy(), rng)
    sf_contacts = pd.DataFrame(
        {
            "Id": contact_ids,
            "IsDeleted": _bool(merged_c),
            "MasterRecordId": master_c,
            "AccountId": account_ids[p_c["company_idx"].to_numpy()],
            "LastName": c["last_name"].to_numpy(),
            "FirstName": c["first_name"].to_numpy(),
            "Salutation": sal_c,
            "Name": (c["first_name"].fillna("") + " " + c["last_name"].fillna("")).str.strip().to_numpy(),
            "MailingStreet": c["street"].to_numpy(),
            "MailingCity": c["city"].to_numpy(),
            "MailingState": c["state"].to_numpy(),
            "MailingPostalCode": c["postal_code"].to_numpy(),
            "MailingCountry": np.where(c["street"].isna(), None, c["country"].to_numpy()),
            "Phone": c["phone"].to_numpy(),
            "MobilePhone": c["mobile"].to_numpy(),
            "Email": c["email"].to_numpy(),
            "Title": c["title"].to_numpy(),
            "Department": titles_dept[p_c["title_idx"].to_numpy()],
            "LeadSource": pick(rng, vocab.SF_LEAD_SOURCES, nc),
            "Birthdate": np.where(
                rng.random(nc) < 0.55, strftime(p_c["birth_date"].to_numpy(), "%Y-%m-%d"), ""
            ),
            "HasOptedOutOfEmail": _bool(opt_c),
            "DoNotCall": _bool(rng.random(nc) < 0.05),
            "OwnerId": pick(rng, vocab.SF_OWNER_IDS, nc),
            "CreatedDate": fmt_salesforce_datetime(created_c).to_numpy(),
            "LastModifiedDate": fmt_salesforce_datetime(modified_c).to_numpy(),
            "Product_Interest__c": np.where(rng.random(nc) < 0.4, pick(rng, vocab.PRODUCTS, nc), ""),
            "Purchase_Timeframe__c": np.where(rng.random(nc) < 0.3, pick(rng, vocab.TIMEFRAMES, nc), ""),
            "HubSpot_Contact_ID__c": hs_xref_str,
        }
    )
    _state_bant(sf_contacts, _flag(persons, "is_hot_lead", c_sel), rng, budget=False)
    # hidden records carry the birth date (it is what still links them)
    hid_c = c["hidden"].to_numpy()
    sf_contacts.loc[hid_c, "Birthdate"] = strftime(p_c["birth_date"].to_numpy()[hid_c], "%Y-%m-%d")
    # ---- Salesforce Opportunity
    opp_contact = survivor_c.reindex(sf_deals["person_idx"].to_numpy()).to_numpy(dtype=object)
    no = len(sf_deals)
    outcome = sf_deals["outcome"].to_numpy()
    open_stage = rng.integers(0, len(SF_OPEN_STAGES), size=no)
    stage = np.where(
        outcome == "won",
        "Closed Won",
        np.where(outcome == "lost", "Closed Lost", obj(s[0] for s in SF_OPEN_STAGES)[open_stage]),
    )
    prob = np.where(
        outcome == "won",
        100,
        np.where(outcome == "lost", 0, np.array([s[1] for s in SF_OPEN_STAGES])[open_stage]),
    )
    forecast = np.where(
        outcome == "won",
        "Closed",
        np.where(outcome == "lost", "Omitted", obj(s[2] for s in SF_OPEN_STAGES)[open_stage]),
    )
    opp_company = companies["company"].to_numpy(dtype=object)[
        persons["company_idx"].to_numpy()[sf_deals["person_idx"].to_numpy()]
    ]
    opp_created = pd.Series(sf_deals["created_at"]).dt.floor("s")
    opp_modified = opp_created + (pd.Series(sf_deals["close_date"]).clip(upper=as_of) - opp_created).clip(
        lower=pd.Timedelta(0)
    )
    sf_opps = pd.DataFrame(
        {
            "Id": opp_ids,
            "IsDeleted": "false",
            "AccountId": account_ids[persons["company_idx"].to_numpy()[sf_deals["person_idx"].to_numpy()]],
            "ContactId": opp_contact,
            "Name": opp_company + " - " + sf_deals["product"].to_numpy(dtype=object),
            "Description": "",
            "StageName": stage,
            "Amount": pd.Series(sf_deals["amount"]).map("{:.2f}".format).to_numpy(),
            "Probability": prob,
            "CloseDate": strftime(sf_deals["close_date"], "%Y-%m-%d"),
            "Type": np.where(
                sf_deals["deal_seq"].to_numpy() == 0, "New Customer", "Existing Customer - Upgrade"
            ),
            "LeadSource": pick(rng, vocab.SF_LEAD_SOURCES, no),
            "IsClosed": _bool(outcome != "open"),
            "IsWon": _bool(outcome == "won"),
            "ForecastCategory": forecast,
            "CurrencyIsoCode": sf_deals["currency"].to_numpy(),
            "CreatedDate": fmt_salesforce_datetime(opp_created).to_numpy(),
            "LastModifiedDate": fmt_salesforce_datetime(opp_modified).to_numpy(),
            "Product__c": sf_deals["product"].to_numpy(),
        }
    )
    first_opp = pd.Series(opp_ids, index=sf_deals["person_idx"].to_numpy())
    first_opp = first_opp[~first_opp.index.duplicated(keep="first")]
    # ---- Salesforce Lead
    l_person = p_l["person_idx"].to_numpy()
    converted = np.isin(l_person, contact_people) & ~l_is_dup
    conv_contact = np.where(converted, survivor_c.reindex(l_person).to_numpy(dtype=object), "")
    conv_account = np.where(converted, account_ids[p_l["company_idx"].to_numpy()], "")
    conv_opp = np.where(converted, first_opp.reindex(l_person).fillna("").to_numpy(dtype=object), "")
    conv_date = np.where(
        converted,
        strftime(
            (created_l + pd.to_timedelta(rng.integers(1, 40, size=nl), unit="D")).clip(upper=as_of),
            "%Y-%m-%d",
        ),
        "",
    )
    status = np.where(
        converted,
        "Closed - Converted",
        pick(
            rng,
            ["Open - Not Contacted", "Working - Contacted", "Closed - Not Converted"],
            nl,
            [0.45, 0.4, 0.15],
        ),
    )
    ind = companies["industry_idx"].to_numpy()[p_l["company_idx"].to_numpy()]
    opt_l = opted[l_sel] & (rng.random(nl) < 0.6)
    sf_leads = pd.DataFrame(
        {
            "Id": lead_ids,
            "IsDeleted": _bool(merged_l),
            "MasterRecordId": master_l,
            "LastName": ld["last_name"].to_numpy(),
            "FirstName": ld["first_name"].to_numpy(),
            "Salutation": _salutation(p_l["first_idx"].to_numpy(), rng),
            "Name": (ld["first_name"].fillna("") + " " + ld["last_name"].fillna("")).str.strip().to_numpy(),
            "Title": ld["title"].to_numpy(),
            "Company": ld["company"].fillna("[not provided]").to_numpy(),
            "Street": ld["street"].to_numpy(),
            "City": ld["city"].to_numpy(),
            "State": ld["state"].to_numpy(),
            "PostalCode": ld["postal_code"].to_numpy(),
            "Country": np.where(ld["street"].isna(), None, ld["country"].to_numpy()),
            "Phone": ld["phone"].to_numpy(),
            "MobilePhone": ld["mobile"].to_numpy(),
            "Email": ld["email"].to_numpy(),
            "LeadSource": pick(rng, vocab.SF_LEAD_SOURCES, nl),
            "Status": status,
            "Industry": obj(i[1] for i in vocab.INDUSTRIES)[ind],
            "Rating": pick(rng, ["Hot", "Warm", "Cold", ""], nl, [0.15, 0.35, 0.3, 0.2]),
            "AnnualRevenue": np.where(
                rng.random(nl) < 0.5,
                companies["annual_revenue"]
                .to_numpy()[p_l["company_idx"].to_numpy()]
                .astype(np.int64)
                .astype(str),
                "",
            ),
            "NumberOfEmployees": np.where(
                rng.random(nl) < 0.6,
                companies["employees"].to_numpy()[p_l["company_idx"].to_numpy()].astype(str),
                "",
            ),
            "HasOptedOutOfEmail": _bool(opt_l),
            "DoNotCall": _bool(rng.random(nl) < 0.05),
            "OwnerId": pick(rng, vocab.SF_OWNER_IDS, nl),
            "IsConverted": _bool(converted),
            "ConvertedDate": conv_date,
            "ConvertedAccountId": conv_account,
            "ConvertedContactId": conv_contact,
            "ConvertedOpportunityId": conv_opp,
            "CreatedDate": fmt_salesforce_datetime(created_l).to_numpy(),
            "LastModifiedDate": fmt_salesforce_datetime(modified_l).to_numpy(),
            "Product_Interest__c": np.where(rng.random(nl) < 0.5, pick(rng, vocab.PRODUCTS, nl), ""),
            "Purchase_Timeframe__c": np.where(rng.random(nl) < 0.45, pick(rng, vocab.TIMEFRAMES, nl), ""),
            "Budget__c": np.where(
                rng.random(nl) < 0.35,
                (np.round(np.exp(rng.normal(9.5, 0.9, size=nl)), -3)).astype(np.int64).astype(str),
                "",
            ),
        }
    )
    _state_bant(sf_leads, _flag(persons, "is_hot_lead", l_sel), rng, budget=True)
    # ---- HubSpot contacts
    hidden_hs = membership["hidden_hs"].to_numpy()
    h_is_dup = np.arange(nh) >= len(hs_people)
    hs_style = Style(
        email_other=0.1,
        missing_phone=0.4,
        missing_address=0.3,
        country_styles=[0.75, 0.05, 0.0, 0.0, 0.15, 0.05],
    )
    h = project(persons, companies, voc, h_sel, rng, hs_style, hidden_hs[h_sel])
    # HubSpot keys contacts on email: a duplicate has another address (or none)
    p_h = persons.iloc[h_sel]
    other_email = np.where(
        p_h["primary_is_work"].to_numpy(),
        p_h["email_personal"].to_numpy(dtype=object),
        p_h["email_work"].to_numpy(dtype=object),
    )
    h_email = h["email"].to_numpy(dtype=object).copy()
    h_email[h_is_dup] = np.where(rng.random(int(h_is_dup.sum())) < 0.7, other_email[h_is_dup], None)
    first_norm = (
        pd.Series(h_email[: len(hs_people)], dtype=object).str.strip().str.lower().to_numpy(dtype=object)
    )
    dup_norm = pd.Series(h_email[h_is_dup], dtype=object).str.strip().str.lower().to_numpy(dtype=object)
    # hash-based membership: np.isin on object arrays compares every pair (quadratic at 1M contacts)
    clash = pd.Series(dup_norm, dtype=object).isin(first_norm[pd.notna(first_norm)]).to_numpy() & pd.notna(
        dup_norm
    )
    dup_emails = h_email[h_is_dup]
    dup_emails[clash] = None
    h_email[h_is_dup] = dup_emails
    sf_xref = survivor_c.reindex(h_sel).to_numpy(dtype=object)
    use_sf_xref = pd.notna(sf_xref) & (rng.random(nh) < 0.5) & ~h["hidden"].to_numpy() & ~h_is_dup
    has_won = np.zeros(len(persons), dtype=bool)
    has_won[deals.loc[deals["outcome"] == "won", "person_idx"].to_numpy()] = True
    has_open = np.zeros(len(persons), dtype=bool)
    has_open[deals.loc[deals["outcome"] == "open", "person_idx"].to_numpy()] = True
    eng = p_h["engagement"].to_numpy()
    stage_early = np.where(
        eng > 0.55,
        "Sales Qualified Lead",
        np.where(eng > 0.35, "Marketing Qualified Lead", np.where(eng > 0.12, "Lead", "Subscriber")),
    )
    advocate = (
        persons["is_advocate"].to_numpy()[h_sel] if "is_advocate" in persons else np.zeros(nh, dtype=bool)
    )
    stage = np.where(
        has_won[h_sel],
        np.where(advocate | (rng.random(nh) < 0.03), "Evangelist", "Customer"),
        np.where(has_open[h_sel], "Opportunity", stage_early),
    )
    stage = np.where(rng.random(nh) < 0.02, "Other", stage)
    stage = np.where(rng.random(nh) < 0.03, "", stage)
    lead_status = np.where(
        has_open[h_sel],
        "Open deal",
        pick(
            rng,
            [
                "New",
                "Open",
                "In progress",
                "Attempted to contact",
                "Connected",
                "Unqualified",
                "Bad timing",
                "",
            ],
            nh,
        ),
    )
    unsub = opted[h_sel] & (rng.random(nh) < 0.6)
    comp_h = p_h["company_idx"].to_numpy()
    created_h, modified_h = _record_times(nh, as_of, rng)
    hs_contacts = pd.DataFrame(
        {
            "Record ID": hs_ids.astype(str),
            "First Name": h["first_name"].to_numpy(),
            "Last Name": h["last_name"].to_numpy(),
            "Email": h_email,
            "Phone Number": h["phone"].to_numpy(),
            "Mobile Phone Number": h["mobile"].to_numpy(),
            "Job Title": h["title"].to_numpy(),
            "Company Name": h["company"].to_numpy(),
            "Street Address": h["street"].to_numpy(),
            "City": h["city"].to_numpy(),
            "State/Region": h["state"].to_numpy(),
            "Postal Code": h["postal_code"].to_numpy(),
            "Country/Region": h["country"].to_numpy(),
            "Date of birth": np.where(
                (rng.random(nh) < 0.4) | h["hidden"].to_numpy(),
                strftime(p_h["birth_date"].to_numpy(), "%Y-%m-%d"),
                "",
            ),
            "Lifecycle Stage": stage,
            "Lead Status": lead_status,
            "Marketing contact status": np.where(
                rng.random(nh) < 0.85, "Marketing contact", "Non-marketing contact"
            ),
            "Unsubscribed from all email": np.where(
                unsub, "true", np.where(rng.random(nh) < 0.5, "false", "")
            ),
            "Industry": np.where(
                rng.random(nh) < 0.7,
                obj(i[2] for i in vocab.INDUSTRIES)[companies["industry_idx"].to_numpy()[comp_h]],
                "",
            ),
            "Number of Employees": np.where(
                rng.random(nh) < 0.5, companies["employees"].to_numpy()[comp_h].astype(str), ""
            ),
            "Annual Revenue": np.where(
                rng.random(nh) < 0.4,
                companies["annual_revenue"].to_numpy()[comp_h].astype(np.int64).astype(str),
                "",
            ),
            "Time Zone": np.where(rng.random(nh) < 0.6, p_h["time_zone"].to_numpy(dtype=object), ""),
            "Salesforce Contact ID": np.where(use_sf_xref, sf_xref, ""),
            "Create Date": fmt_datetime(created_h, "%Y-%m-%d %H:%M").to_numpy(),
            "Last Modified Date": fmt_datetime(modified_h, "%Y-%m-%d %H:%M").to_numpy(),
            "Contact owner": pick(rng, vocab.HS_OWNERS, nh),
        }
    )
    # ---- HubSpot deals
    nd = len(hs_deals_true)
    hs_outcome = hs_deals_true["outcome"].to_numpy()
    hs_stage = np.where(
        hs_outcome == "won",
        "Closed Won",
        np.where(hs_outcome == "lost", "Closed Lost", pick(rng, HS_OPEN_STAGES, nd)),
    )
    deal_people = hs_deals_true["person_idx"].to_numpy()
    assoc = hs_first_id.reindex(deal_people).astype("Int64").astype(str).to_numpy(dtype=object)
    # a few deals name a colleague at the same company as a second contact
    hs_company = companies["company"].to_numpy(dtype=object)[persons["company_idx"].to_numpy()[deal_people]]
    second = rng.choice(hs_ids, size=nd) if nh else np.zeros(nd, dtype=np.int64)
    two = rng.random(nd) < 0.08
    assoc = np.where(two, assoc + ";" + second.astype(str).astype(object), assoc)
    hs_deal_ids = (9_000_000_000 + np.cumsum(rng.integers(1, 900, size=nd))).astype(np.int64)
    hs_deals = pd.DataFrame(
        {
            "Record ID": hs_deal_ids.astype(str),
            "Deal Name": hs_company + " - " + hs_deals_true["product"].to_numpy(dtype=object),
            "Deal Stage": hs_stage,
            "Amount": pd.Series(hs_deals_true["amount"]).map("{:.0f}".format).to_numpy(),
            "Close Date": strftime(hs_deals_true["close_date"], "%Y-%m-%d %H:%M"),
            "Create Date": fmt_datetime(hs_deals_true["created_at"], "%Y-%m-%d %H:%M").to_numpy(),
            "Pipeline": "Sales Pipeline",
            "Deal owner": pick(rng, vocab.HS_OWNERS[:-1], nd),
            "Associated Contact IDs": assoc,
            "Associated Company": hs_company,
        }
    )
    truth = pd.concat(
        [
            pd.DataFrame(
                {"source_system": "salesforce", "source_record_id": contact_ids, "person_idx": c_sel}
            ),
            pd.DataFrame({"source_system": "salesforce", "source_record_id": lead_ids, "person_idx": l_sel}),
            pd.DataFrame(
                {"source_system": "hubspot", "source_record_id": hs_ids.astype(str), "person_idx": h_sel}
            ),
        ],
        ignore_index=True,
    )
    truth["is_role_mailbox"] = False
    return CrmOutput(sf_contacts, sf_leads, sf_opps, hs_contacts, hs_deals, truth)


def apply_role_mailboxes(
    crm: CrmOutput, persons: pd.DataFrame, companies: pd.DataFrame, rng: np.random.Generator
) -> None:
    """A few companies' contacts share info@/sales@ in Salesforce: several persons, one mailbox."""
    contacts = crm.sf_contacts
    person_of = crm.truth.set_index("source_record_id")["person_idx"]
    pidx = person_of.reindex(contacts["Id"]).to_numpy()
    comp = persons["company_idx"].to_numpy()[pidx]
    live = contacts["IsDeleted"].to_numpy() == "false"
    counts = pd.Series(comp[live]).value_counts()
    eligible = counts[counts >= 3].index.to_numpy()
    if len(eligible) == 0:
        return
    k = max(2, min(len(eligible), len(persons) // 700))
    chosen = rng.choice(eligible, size=min(k, len(eligible)), replace=False)
    role = np.empty(len(chosen), dtype=object)
    role[:] = [vocab.ROLE_MAILBOXES[i % len(vocab.ROLE_MAILBOXES)] for i in range(len(chosen))]
    role_email = role + "@" + companies["domain"].to_numpy(dtype=object)[chosen]
    mapping = pd.Series(role_email, index=chosen)
    rows = np.flatnonzero(live & np.isin(comp, chosen))
    # at most three records per mailbox company
    rank = pd.Series(comp[rows]).groupby(comp[rows]).cumcount().to_numpy()
    rows = rows[rank < 3]
    contacts.loc[rows, "Email"] = mapping.reindex(comp[rows]).to_numpy()
    ids = contacts.loc[rows, "Id"].to_numpy()
    crm.truth.loc[crm.truth["source_record_id"].isin(ids), "is_role_mailbox"] = True
