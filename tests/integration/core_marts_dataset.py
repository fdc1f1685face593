"""A small hand-made raw + identity dataset for the core marts (issue #4), per the contracts in
docs/architecture.md. Used by tests/integration/test_core_marts.py.

People:
- A, Robert "Bob" Smith: Salesforce contact 003A (won deal), HubSpot contact 101 (newer, nickname, other title),
  Mailchimp member (subscribed), SendGrid recipient (a delivered event exported twice, an open, a later
  unsubscribe), Zoom attendee (two sessions) and registrant.
- B, Zoë Müller: Salesforce leads 00QB1 (complete) and 00QB2 (sparse, newer) = a Salesforce merge pair, HubSpot
  contact 202 (do_not_call), SendGrid group 42 unsubscribed then resubscribed later, group 43 resubscribed then
  unsubscribed later.
- C, Chloé Dupont: HubSpot contacts 301 and 302 (a HubSpot merge pair joined by Splink), Mailchimp member cleaned.
- D: only a SendGrid recipient with a delivered event: no consent assertion (unknown).
- E, Ana Silva: Zoho CRM contacts zc1 and zc2 (a Zoho merge pair); F, Tom Berg: Dynamics 365 contacts (a Dynamics
  merge pair). identity_pair_evidence scores the CRM pairs as a run's Splink model would.
"""

from __future__ import annotations

import duckdb

RAW_DDL = """
create table raw_crm_contacts (
    source_system varchar, source_record_id varchar, record_type varchar, email varchar, first_name varchar,
    last_name varchar, phone varchar, mobile_phone varchar, title varchar, company varchar, street varchar,
    city varchar, state varchar, postal_code varchar, country varchar, birth_date date, lead_source varchar,
    lifecycle_stage varchar, lead_status varchar, has_opted_out_of_email boolean, do_not_call boolean,
    owner_id varchar, account_id varchar, industry varchar, employees integer, annual_revenue double,
    product_interest varchar, purchase_timeframe varchar, budget double, time_zone varchar,
    converted_contact_id varchar, master_record_id varchar, xref_salesforce_id varchar, xref_hubspot_id varchar,
    created_at timestamp, updated_at timestamp, extra json,
    _source_file varchar, _source_line integer, _file_hash varchar, _ingested_at timestamp);
create table raw_crm_deals (
    source_system varchar, deal_id varchar, deal_name varchar, amount double, currency varchar, stage varchar,
    is_closed boolean, is_won boolean, close_date date, created_at timestamp, contact_source_record_id varchar,
    account_id varchar, account_name varchar, product varchar,
    _source_file varchar, _source_line integer, _file_hash varchar, _ingested_at timestamp);
create table raw_email_events (
    source_system varchar, event_id varchar, message_id varchar, email varchar, event varchar,
    bounce_type varchar, bounce_classification varchar, reason varchar, status varchar, url varchar,
    categories varchar[], asm_group_id integer, campaign_id varchar, touchplan_send_id varchar,
    occurred_at timestamp, custom_args json, payload json,
    _source_file varchar, _source_line integer, _file_hash varchar, _ingested_at timestamp);
create table raw_email_suppressions (
    source_system varchar, suppression_list varchar, email varchar, reason varchar, status varchar,
    asm_group_id integer, created_at timestamp,
    _source_file varchar, _source_line integer, _file_hash varchar, _ingested_at timestamp);
create table raw_email_audience (
    source_system varchar, source_record_id varchar, list_status varchar, email varchar, first_name varchar,
    last_name varchar, phone varchar, address varchar, member_rating integer, optin_at timestamp,
    confirm_at timestamp, last_changed_at timestamp, leid varchar, euid varchar, tags varchar,
    unsubscribed_at timestamp, cleaned_at timestamp, unsub_reason varchar, clean_reason varchar,
    timezone varchar, country_code varchar, extra json,
    _source_file varchar, _source_line integer, _file_hash varchar, _ingested_at timestamp);
create table raw_webinar_attendance (
    source_system varchar, webinar_id varchar, webinar_topic varchar, webinar_start_at timestamp, role varchar,
    email varchar, name varchar, joined_at timestamp, left_at timestamp, duration_minutes double,
    is_guest boolean, country varchar, extra json,
    _source_file varchar, _source_line integer, _file_hash varchar, _ingested_at timestamp);
create table raw_webinar_registrations (
    source_system varchar, webinar_id varchar, webinar_topic varchar, email varchar, first_name varchar,
    last_name varchar, registered_at timestamp, approval_status varchar, country varchar, company varchar,
    title varchar, extra json,
    _source_file varchar, _source_line integer, _file_hash varchar, _ingested_at timestamp);
"""

IDENTITY_DDL = """
create table identity_edges (record_key_l varchar, record_key_r varchar, rule varchar, match_weight double,
    match_probability double);
create table identity_clusters (record_key varchar, cluster_id varchar, customer_id varchar,
    joined_by_rule varchar, match_weight double);
create table identity_pair_evidence (record_key_l varchar, record_key_r varchar, match_weight double,
    match_probability double, agreed_comparisons varchar);
"""

RAW_ROWS = """
insert into raw_crm_contacts by name
select * from (values
    ('salesforce', '003A', 'contact', ' Bob.Smith@Acme.com ', 'Robert', 'Smith', '(415) 555-2671', null,
     'VP Marketing', 'Acme Inc.', '1 Main Street', 'San Francisco', 'CA', '94105', 'USA', 'Technology', 250,
     null::boolean, false, timestamp '2024-01-01 09:00', timestamp '2026-01-10 09:00', 'sf/contacts.csv', 2),
    ('hubspot', '101', 'contact', 'bob.smith@acme.com', 'Bob', 'Smith', '+1 415 555 2671', null,
     'Chief Marketing Officer', 'ACME Corp', null, 'San Francisco', null, null, 'United States', null, null,
     false, false, timestamp '2025-01-01 09:00', timestamp '2026-03-01 09:00', 'hs/contacts.csv', 2),
    ('salesforce', '00QB1', 'lead', 'zoe.mueller@example.de', 'Zoë', 'Müller', '030 901820', null,
     'Marketing Manager', 'Beispiel GmbH', 'Hauptstraße 5', 'Berlin', null, '10115', 'Deutschland', 'Retail', 40,
     null, false, timestamp '2023-05-01 09:00', timestamp '2025-05-01 09:00', 'sf/leads.csv', 2),
    ('salesforce', '00QB2', 'lead', 'ZOE.MUELLER@example.de', 'Zoe', null, null, null,
     null, null, null, null, null, null, null, null, null,
     null, null, timestamp '2025-02-01 09:00', timestamp '2025-09-01 09:00', 'sf/leads.csv', 3),
    ('hubspot', '202', 'contact', 'zoe.mueller@example.de', 'Zoe', 'Mueller', '+49 30 901820', null,
     'Head of Marketing', 'Beispiel AG', null, 'Berlin', null, null, 'DE', null, null,
     null, true, timestamp '2024-06-01 09:00', timestamp '2025-06-01 09:00', 'hs/contacts.csv', 3),
    ('hubspot', '301', 'contact', 'chloe@dupont.fr', 'Chloé', 'Dupont', null, null,
     'Analyst', 'Dupont S.A.', null, 'Paris', null, null, 'France', null, null,
     null, null, timestamp '2022-01-01 09:00', timestamp '2024-01-01 09:00', 'hs/contacts.csv', 4),
    ('hubspot', '302', 'contact', 'c.dupont@gmail.com', 'Chloe', 'Dupont', '+33 1 42 68 53 00', null,
     'Senior Analyst', 'Dupont', null, 'Paris', null, null, 'FR', null, null,
     null, null, timestamp '2023-01-01 09:00', timestamp '2025-01-01 09:00', 'hs/contacts.csv', 5),
    ('zoho', 'zc1', 'contact', 'ana.silva@lisboa.pt', 'Ana', 'Silva', null, null,
     'Buyer', 'Lisboa Lda', null, 'Lisboa', null, null, 'Portugal', null, null,
     null, null, timestamp '2024-03-01 09:00', timestamp '2024-04-01 09:00', 'zoho/contacts.csv', 2),
    ('zoho', 'zc2', 'contact', 'ana.silva@lisboa.pt', 'Ana', null, null, null,
     null, null, null, null, null, null, null, null, null,
     null, null, timestamp '2025-03-01 09:00', timestamp '2025-04-01 09:00', 'zoho/contacts.csv', 3),
    ('dynamics', 'dyn-1', 'contact', 'tom.berg@nord.no', 'Tom', 'Berg', null, null,
     'CTO', 'Nord AS', null, 'Oslo', null, null, 'Norway', null, null,
     null, null, timestamp '2023-08-01 09:00', timestamp '2024-08-01 09:00', 'dyn/contacts.xlsx', 2),
    ('dynamics', 'dyn-2', 'contact', 'tberg@nord.no', 'Thomas', 'Berg', null, null,
     null, 'Nord AS', null, null, null, null, null, null, null,
     null, null, timestamp '2024-09-01 09:00', timestamp '2024-10-01 09:00', 'dyn/contacts.xlsx', 3)
) t(source_system, source_record_id, record_type, email, first_name, last_name, phone, mobile_phone, title,
    company, street, city, state, postal_code, country, industry, employees, has_opted_out_of_email, do_not_call,
    created_at, updated_at, _source_file, _source_line);
update raw_crm_contacts set _ingested_at = timestamp '2026-04-01 00:00', _file_hash = 'h1';

insert into raw_crm_deals by name
select * from (values
    ('salesforce', '006X', 'Acme expansion', 50000.0, 'usd', 'Closed Won', true, true, date '2026-02-15',
     timestamp '2025-11-01 10:00', '003A'),
    ('hubspot', 'd-9', 'Dupont pilot', 9000.0, 'EUR', 'closedlost', true, false, date '2025-03-01',
     timestamp '2025-01-15 10:00', '302')
) t(source_system, deal_id, deal_name, amount, currency, stage, is_closed, is_won, close_date, created_at,
    contact_source_record_id);
update raw_crm_deals set _ingested_at = timestamp '2026-04-01 00:00', _source_file = 'deals.csv',
    _source_line = 2, _file_hash = 'h2';

insert into raw_email_events by name
select * from (values
    ('ev1', 'msg1', 'bob.smith@acme.com', 'delivered', null, 'c1', timestamp '2026-01-20 10:00', 'e1.json', 1),
    ('ev1', 'msg1', 'bob.smith@acme.com', 'delivered', null, 'c1', timestamp '2026-01-20 10:00', 'e2.json', 1),
    ('ev2', 'msg1', 'Bob.Smith@acme.com', 'open', null, 'c1', timestamp '2026-01-20 11:00', 'e1.json', 2),
    ('ev3', 'msg2', 'bob.smith@acme.com', 'unsubscribe', null, 'c2', timestamp '2026-02-01 10:00', 'e1.json', 3),
    ('ev4', 'msg3', 'zoe.mueller@example.de', 'group_unsubscribe', 42, 'c3', timestamp '2026-01-05 10:00',
     'e1.json', 4),
    ('ev5', 'msg3', 'zoe.mueller@example.de', 'group_resubscribe', 42, 'c3', timestamp '2026-02-05 10:00',
     'e1.json', 5),
    ('ev6', 'msg4', 'zoe.mueller@example.de', 'group_resubscribe', 43, 'c4', timestamp '2026-01-01 10:00',
     'e1.json', 6),
    ('ev7', 'msg4', 'zoe.mueller@example.de', 'group_unsubscribe', 43, 'c4', timestamp '2026-02-10 10:00',
     'e1.json', 7),
    ('ev8', 'msg5', 'dee@nowhere.io', 'delivered', null, 'c1', timestamp '2026-01-20 10:00', 'e1.json', 8)
) t(event_id, message_id, email, event, asm_group_id, campaign_id, occurred_at, _source_file, _source_line);
update raw_email_events set source_system = 'sendgrid', _ingested_at = timestamp '2026-04-01 00:00',
    _file_hash = _source_file;

insert into raw_email_audience by name
select * from (values
    ('L1', 'E1', 'subscribed', 'bob.smith@acme.com', 'Bob', 'Smith', timestamp '2025-06-01 08:00',
     timestamp '2025-06-01 09:00', null::timestamp, 'US'),
    ('L3', 'E3', 'cleaned', 'chloe@dupont.fr', 'Chloe', 'Dupont', timestamp '2021-06-01 08:00',
     timestamp '2021-06-01 09:00', timestamp '2025-07-01 09:00', 'FR')
) t(leid, euid, list_status, email, first_name, last_name, optin_at, confirm_at, cleaned_at, country_code);
update raw_email_audience set source_system = 'mailchimp', source_record_id = leid,
    last_changed_at = coalesce(cleaned_at, confirm_at), _ingested_at = timestamp '2026-04-01 00:00',
    _source_file = 'mc/members.csv', _source_line = 2, _file_hash = 'h4';

insert into raw_webinar_attendance by name
select * from (values
    ('w1', 'attendee', 'bob.smith@acme.com', 'Bob Smith', timestamp '2026-01-15 16:00', timestamp '2026-01-15 16:20',
     20.0),
    ('w1', 'attendee', 'bob.smith@acme.com', 'Bob Smith', timestamp '2026-01-15 16:30', timestamp '2026-01-15 17:00',
     30.0)
) t(webinar_id, role, email, name, joined_at, left_at, duration_minutes);
update raw_webinar_attendance set source_system = 'zoom', webinar_topic = 'Launch',
    webinar_start_at = timestamp '2026-01-15 16:00', _ingested_at = timestamp '2026-04-01 00:00',
    _source_file = 'zoom/w1.csv', _source_line = 2, _file_hash = 'h5';

insert into raw_webinar_registrations by name
select 'zoom' as source_system, 'w1' as webinar_id, 'Launch' as webinar_topic, 'bob.smith@acme.com' as email,
    'Bob' as first_name, 'Smith' as last_name, timestamp '2026-01-10 12:00' as registered_at,
    'approved' as approval_status, 'US' as country, 'Acme' as company, 'VP Marketing' as title;
update raw_webinar_registrations set _ingested_at = timestamp '2026-04-01 00:00', _source_file = 'zoom/r.csv',
    _source_line = 2, _file_hash = 'h6';
"""

# record_key -> (customer_id, joined_by_rule, match_weight)
CLUSTERS = {
    "salesforce:003A": ("cust_A", "seed", None),
    "hubspot:101": ("cust_A", "email", None),
    "mailchimp:L1": ("cust_A", "email", None),
    "sendgrid:bob.smith@acme.com": ("cust_A", "email", None),
    "zoom:bob.smith@acme.com": ("cust_A", "email", None),
    "salesforce:00QB1": ("cust_B", "seed", None),
    "salesforce:00QB2": ("cust_B", "email", None),
    "hubspot:202": ("cust_B", "email", None),
    "sendgrid:zoe.mueller@example.de": ("cust_B", "email", None),
    "hubspot:301": ("cust_C", "seed", None),
    "hubspot:302": ("cust_C", "splink", 12.5),
    "mailchimp:L3": ("cust_C", "email", None),
    "sendgrid:dee@nowhere.io": ("cust_D", "seed", None),
    "zoho:zc1": ("cust_E", "seed", None),
    "zoho:zc2": ("cust_E", "email", None),
    "dynamics:dyn-1": ("cust_F", "seed", None),
    "dynamics:dyn-2": ("cust_F", "splink", 9.0),
}

EDGES = [
    ("salesforce:00QB1", "salesforce:00QB2", "email", None, None),
    ("hubspot:301", "hubspot:302", "splink", 12.5, 0.9998),
    ("zoho:zc1", "zoho:zc2", "email", None, None),
    ("dynamics:dyn-1", "dynamics:dyn-2", "splink", 9.0, 0.998),
]

# (record_key_l < record_key_r, match_weight, match_probability, agreed_comparisons)
PAIR_EVIDENCE = [
    (
        "hubspot:301",
        "hubspot:302",
        12.5,
        0.9998,
        "first name: exact match (+7.1); last name: exact match (+9.9)",
    ),
    ("salesforce:00QB1", "salesforce:00QB2", 1.2, 0.7, "email: exact match (+11.0)"),
    ("zoho:zc1", "zoho:zc2", 8.0, 0.996, "first name: exact match (+7.0); email: exact match (+11.0)"),
    (
        "dynamics:dyn-1",
        "dynamics:dyn-2",
        9.0,
        0.998,
        "last name: exact match (+9.9); company: exact match (+6.2)",
    ),
]


def create_raw_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(RAW_DDL)
    con.execute(RAW_ROWS)


def create_identity_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(IDENTITY_DDL)
    con.executemany(
        "insert into identity_clusters values (?, ?, ?, ?, ?)",
        [(key, cid, cid, rule, weight) for key, (cid, rule, weight) in CLUSTERS.items()],
    )
    con.executemany("insert into identity_edges values (?, ?, ?, ?, ?)", EDGES)
    con.executemany("insert into identity_pair_evidence values (?, ?, ?, ?, ?)", PAIR_EVIDENCE)


def build(path: str) -> None:
    con = duckdb.connect(path)
    try:
        create_raw_tables(con)
        create_identity_tables(con)
    finally:
        con.close()
