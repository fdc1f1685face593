"""Matching details tuned on the generator's data: cross comparisons, webinar surnames, chunked prediction,
training on a sample, and the unlinkable-record and evidence ceilings of score_pairs."""

from __future__ import annotations

import math

import pytest

from pipelines.lib.config import ConfigError
from pipelines.lib.identity import resolve_identities, score_pairs
from pipelines.lib.identity.config import Comparison, IdentityConfig, load_identity_config

from .conftest import NOW, person, same_customer, write_records


def low_threshold_config() -> IdentityConfig:
    """Untrained priors, every scored pair kept as an edge: to read match weights."""
    cfg = IdentityConfig()
    cfg.splink.train = False
    cfg.thresholds.match_probability = 1e-9
    cfg.thresholds.name_only_match_probability = None  # keep name-only pairs too
    cfg.thresholds.match_weight = -1000
    return cfg


def splink_weight(con, left: str, right: str) -> float:
    row = con.execute(
        "SELECT match_weight FROM identity_edges WHERE rule = 'splink' AND record_key_l = ? AND "
        "record_key_r = ?",
        [left, right],
    ).fetchone()
    assert row is not None, f"no splink edge {left} - {right}"
    return row[0]


def test_webinar_surname_parsed_with_display_name_is_undoubled(con):
    # 'Debbie Adams (Deborah Adams)' arrives as surname 'adams deborah adams'; a double-barrelled one stays.
    write_records(
        con,
        [
            person("salesforce:1", "deborah", "adams", phone_e164="+442071234567"),
            {
                **person("zoom:d@x.com", "debbie", "adams deborah adams", phone_e164="+442071234567"),
                "first_name_canonical": "deborah",
            },
            person("salesforce:2", "lucas", "garcia lopez", phone_e164="+442079999999"),
            person("zoom:l@x.com", "lucas", "lopez", phone_e164="+442079999999"),
        ],
    )
    cfg = IdentityConfig()
    cfg.splink.enabled = False
    resolve_identities(con, cfg, "r1", NOW)
    assert same_customer(con, "salesforce:1", "zoom:d@x.com")
    assert not same_customer(con, "salesforce:2", "zoom:l@x.com")


def test_company_matching_the_other_email_domain_adds_weight(con):
    crm = person("salesforce:1", "lukas", "moller", company_norm="pinnacle freight hub", country_code="DE")
    write_records(
        con,
        [
            crm,
            person(
                "mailchimp:1",
                "lukas",
                "moller",
                email="lukas.moller@pinnaclefreighthub.com",
                country_code="DE",
            ),
        ],
    )
    resolve_identities(con, low_threshold_config(), "r1", NOW)
    with_employer = splink_weight(con, "mailchimp:1", "salesforce:1")

    write_records(
        con,
        [
            crm,
            person("mailchimp:1", "lukas", "moller", email="lukas.moller@otherfirm.com", country_code="DE"),
        ],
    )
    con.execute("DROP TABLE customer_key_map")
    con.execute("DROP TABLE customer_merge_log")
    resolve_identities(con, low_threshold_config(), "r2", NOW)
    without = splink_weight(con, "mailchimp:1", "salesforce:1")
    assert with_employer > without + 3


def test_birth_year_in_email_adds_weight_and_role_mailbox_gives_none(con):
    crm = person("salesforce:1", "william", "singh", birth_date="1972-08-23")
    write_records(con, [crm, person("mailchimp:1", "william", "singh", email="william.singh72@gmail.com")])
    resolve_identities(con, low_threshold_config(), "r1", NOW)
    year_agrees = splink_weight(con, "mailchimp:1", "salesforce:1")

    write_records(con, [crm, person("mailchimp:1", "william", "singh", email="william.singh65@gmail.com")])
    con.execute("DROP TABLE customer_key_map")
    con.execute("DROP TABLE customer_merge_log")
    resolve_identities(con, low_threshold_config(), "r2", NOW)
    assert year_agrees > splink_weight(con, "mailchimp:1", "salesforce:1") + 2


def test_cross_comparison_needs_other_column(tmp_path):
    (tmp_path / "identity.yaml").write_text(
        "splink:\n  comparisons:\n  - name: employer\n    column: company_key\n    kind: cross\n"
    )
    with pytest.raises(ConfigError) as err:
        load_identity_config(tmp_path)
    assert "identity.yaml" in str(err.value) and "other_column" in str(err.value)
    (tmp_path / "identity.yaml").write_text(
        "splink:\n  comparisons:\n  - name: employer\n    column: company_key\n    kind: cross\n"
        "    other_column: email_domain_typo\n"
    )
    with pytest.raises(ConfigError) as err:
        load_identity_config(tmp_path)
    assert "email_domain_typo" in str(err.value)


def _many_records(con, n: int) -> None:
    """n people (a few share a name), plus one planted pair sharing no identifier."""
    write_records(con, [])
    con.execute(f"""
        INSERT INTO int_identity_records (record_key, source_system, source_record_id, record_type, email,
            first_name_norm, first_name_canonical, last_name_norm, street_norm, city_norm, postal_code_norm,
            country_code, birth_date, is_deleted)
        SELECT 'hubspot:' || i, 'hubspot', CAST(i AS VARCHAR), 'contact', 'p' || i || '@mail.com',
               'f' || (i % 97), 'f' || (i % 97), 'l' || (i % 101), i || ' main st', 'c' || (i % 13), 'z' || i,
               'GB', DATE '1950-01-01' + INTERVAL (i % 9000) DAY, false
        FROM range({n}) t(i)
    """)
    # every tenth person also has a second record on another email (the matches training learns from)
    con.execute("""
        INSERT INTO int_identity_records
        SELECT * REPLACE ('zoho:' || source_record_id AS record_key, 'zoho' AS source_system,
                          'q' || source_record_id || '@other.com' AS email)
        FROM int_identity_records WHERE CAST(source_record_id AS INTEGER) % 10 = 0
    """)
    con.execute("""
        INSERT INTO int_identity_records (record_key, source_system, source_record_id, record_type, email,
            first_name_norm, first_name_canonical, last_name_norm, street_norm, city_norm, postal_code_norm,
            country_code, birth_date, is_deleted)
        VALUES ('salesforce:a', 'salesforce', 'a', 'contact', 'quentin@one.com', 'quentin', 'quentin', 'zabrowski',
                '9 elm rd', 'leeds', 'ls12ab', 'GB', DATE '1971-03-04', false),
               ('salesforce:b', 'salesforce', 'b', 'contact', 'qz@two.com', 'quentin', 'quentin', 'zabrowski',
                '9 elm rd', 'leeds', 'ls12ab', 'GB', DATE '1971-03-04', false)
    """)


def test_chunked_prediction_gives_the_same_edges(con):
    _many_records(con, 1500)
    cfg = IdentityConfig()
    cfg.splink.train = False
    resolve_identities(con, cfg, "r1", NOW)
    whole = con.execute(
        "SELECT record_key_l, record_key_r, round(match_weight, 6) FROM identity_edges "
        "WHERE rule = 'splink' ORDER BY ALL"
    ).fetchall()
    cfg.splink.predict_chunk_records = 1000  # 2 chunks
    resolve_identities(con, cfg, "r2", NOW)
    chunked = con.execute(
        "SELECT record_key_l, record_key_r, round(match_weight, 6) FROM identity_edges "
        "WHERE rule = 'splink' ORDER BY ALL"
    ).fetchall()
    assert chunked == whole
    assert any(r[:2] == ("salesforce:a", "salesforce:b") for r in whole)


def test_training_on_a_sample_when_records_exceed_the_limit(con):
    _many_records(con, 1500)
    cfg = IdentityConfig()
    cfg.splink.min_records_for_training = 100
    cfg.splink.training_sample_records = 1000
    cfg.splink.u_max_pairs = 2e5
    report = resolve_identities(con, cfg, "r1", NOW)
    assert report.splink_trained
    assert report.records == 1652
    assert same_customer(con, "salesforce:a", "salesforce:b")
    assert same_customer(con, "hubspot:10", "zoho:10")
    assert not con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = '_identity_splink_train'"
    ).fetchone()[0]


def test_the_prior_calibrated_on_a_sample_estimates_the_share_of_matching_pairs_of_all_records(con):
    """Above training_sample_records the prior is calibrated on the sample's pairs (then the full table is
    scored once): the share of matching pairs among a uniform sample's pairs is the full table's, so the prior
    comes out near the one calibrated on every record (151 duplicate pairs in 1,652 records, ~55 in a sample of
    1,000: within sampling noise), not (1,000 / 1,652)^2 = 0.37 times it."""
    _many_records(con, 1500)
    cfg = IdentityConfig()
    cfg.splink.min_records_for_training = 100
    cfg.splink.u_max_pairs = 2e5
    cfg.splink.training_sample_records = 2000  # every record
    everyone = resolve_identities(con, cfg, "r1", NOW)
    cfg.splink.training_sample_records = 1000
    sampled = resolve_identities(con, cfg, "r2", NOW)
    assert everyone.splink_trained and sampled.splink_trained
    ratio = sampled.splink_prior / everyone.splink_prior
    assert 0.6 < ratio < 1.6, (sampled.splink_prior, everyone.splink_prior)
    assert same_customer(con, "salesforce:a", "salesforce:b")


def test_score_pairs_reports_unlinkable_records_and_recall_ceiling(con, tmp_path):
    # person A: a CRM record and a SendGrid recipient on a one-off address (nothing links it: unlinkable);
    # person B: two records clustered together; person C: a SendGrid recipient whose email a CRM record shares.
    write_records(
        con,
        [
            person("salesforce:a1", "ann", "lee", email="ann@corp.com"),
            {"key": "sendgrid:a.one-off@mail.com", "email": "a.one-off@mail.com"},
            person("salesforce:b1", "bob", "ray", email="bob@corp.com"),
            person("hubspot:b2", "bob", "ray", email="bob@corp.com"),
            person("salesforce:c1", "cy", "fox", email="cy@corp.com"),
            {"key": "sendgrid:cy@corp.com", "email": "cy@corp.com"},
        ],
    )
    con.execute("""CREATE TABLE identity_clusters AS SELECT * FROM (VALUES
        ('salesforce:a1', 'A'), ('sendgrid:a.one-off@mail.com', 'X'), ('salesforce:b1', 'B'), ('hubspot:b2', 'B'),
        ('salesforce:c1', 'C'), ('sendgrid:cy@corp.com', 'Y')) t(record_key, customer_id)""")
    truth = tmp_path / "ground_truth.csv"
    truth.write_text(
        "source_system,source_record_id,person_id,is_role_mailbox\n"
        "salesforce,a1,A,false\nsendgrid,a.one-off@mail.com,A,false\nsalesforce,b1,B,false\n"
        "hubspot,b2,B,false\nsalesforce,c1,C,false\nsendgrid,cy@corp.com,C,false\n"
    )
    scores = score_pairs(con, truth)
    assert (scores.overall.true_pairs, scores.overall.true_positive_pairs) == (3, 1)
    assert scores.unlinkable_records == 1
    assert scores.recall_ceiling == pytest.approx(2 / 3)
    assert (scores.linkable.true_pairs, scores.linkable.true_positive_pairs) == (2, 1)
    assert scores.linkable.recall == pytest.approx(0.5)


def test_score_pairs_counts_pairs_that_share_only_a_name_someone_else_carries(con, tmp_path):
    # person A ("ann lee"): a1 and a2 share a street (one evidence component); a3 has only the name (a bare
    # component), a4 the name and a city of its own. Person D carries the name too, so every pair across A's
    # components is ambiguous: a1~a3, a2~a3, a3~a4 with a bare side, a1~a4 and a2~a4 without. Person B ("bob ray",
    # nobody else's name): b1~b2 share only the name, but it is theirs alone, so the pair stays reachable.
    write_records(
        con,
        [
            person("salesforce:a1", "ann", "lee", email="ann@corp.com", street_norm="1 main st"),
            person("hubspot:a2", "ann", "lee", email="ann.lee@corp2.com", street_norm="1 main st"),
            person("mailchimp:a3", "ann", "lee", email="annie@mail.com"),
            person("zoom:a4", "ann", "lee", email="al@mail.com", city_norm="york"),
            person("salesforce:d1", "ann", "lee", email="d@corp3.com"),
            person("salesforce:b1", "bob", "ray", email="bob@corp.com"),
            person("mailchimp:b2", "bob", "ray", email="bobby@mail.com"),
        ],
    )
    con.execute("""CREATE TABLE identity_clusters AS SELECT * FROM (VALUES
        ('salesforce:a1', 'A'), ('hubspot:a2', 'A'), ('mailchimp:a3', 'A'), ('zoom:a4', 'A4'),
        ('salesforce:d1', 'D'), ('salesforce:b1', 'B'), ('mailchimp:b2', 'B2')) t(record_key, customer_id)""")
    truth = tmp_path / "ground_truth.csv"
    truth.write_text(
        "source_system,source_record_id,person_id,is_role_mailbox\n"
        "salesforce,a1,A,false\nhubspot,a2,A,false\nmailchimp,a3,A,false\nzoom,a4,A,false\n"
        "salesforce,d1,D,false\nsalesforce,b1,B,false\nmailchimp,b2,B,false\n"
    )
    scores = score_pairs(con, truth)
    assert scores.overall.true_pairs == 7
    assert scores.name_only_ambiguous_pairs == 5
    assert scores.name_only_ambiguous_bare_pairs == 3
    assert scores.name_only_ambiguous_linked == 2
    assert scores.reachable_pairs == 2
    assert scores.evidence_recall_ceiling == pytest.approx(2 / 7)
    assert scores.best_f1_at_evidence_ceiling == pytest.approx(2 * (2 / 7) / (1 + 2 / 7))


def test_location_is_one_piece_of_evidence_from_street_down_to_country(con):
    # One comparison over street, postal code, city, time zone and country (most specific first): agreeing on the
    # street outweighs agreeing only on the postal code, then the same city, the same country, another country;
    # the same postal code with another street is weaker than the same postal code with no street to compare.
    base = {
        "street_norm": "12 elm rd",
        "postal_code_norm": "LS12AB",
        "city_norm": "leeds",
        "time_zone": "Europe/London",
        "country_code": "GB",
    }
    variants = {
        "same_street": dict(base),
        "postal_only": {k: base[k] for k in ("postal_code_norm", "city_norm", "country_code")},
        "postal_other_street": {**base, "street_norm": "99 oak st"},
        "city_only": {"city_norm": "leeds", "country_code": "GB"},
        "country_only": {"country_code": "GB"},
        "other_country": {"country_code": "FR"},
        "nothing": {},
    }
    rows = [person("salesforce:base", "ruth", "okafor", email="base@x.com", **base)]
    rows += [
        person(f"hubspot:{name}", "ruth", "okafor", email=f"{name}@y.com", **attrs)
        for name, attrs in variants.items()
    ]
    write_records(con, rows)
    cfg = low_threshold_config()
    cfg.guards.conflicting_postal_code = False
    # the mechanism, with time zone and country too (the shipped hierarchy stops at the city)
    location = next(c for c in cfg.splink.comparisons if c.name == "location")
    location.columns = ["street_norm", "postal_code_norm", "city_norm", "time_zone", "country_code"]
    resolve_identities(con, cfg, "r1", NOW)
    w = {name: splink_weight(con, f"hubspot:{name}", "salesforce:base") for name in variants}
    order = ["same_street", "postal_only", "city_only", "country_only", "other_country"]
    assert [w[n] for n in order] == sorted((w[n] for n in order), reverse=True), w
    assert w["postal_other_street"] < w["postal_only"]
    # five agreeing columns count once: the exact level's prior Bayes factor (m 0.7 / u 0.0002), not five factors
    assert w["same_street"] - w["nothing"] == pytest.approx(math.log2(0.7 / 0.0002), abs=0.01)


def assert_comparison_rejected(tmp_path, head: str, bad: dict[str, str]) -> None:
    """Each body after the comparison `head` is refused with an error naming identity.yaml and the message."""
    for body, message in bad.items():
        (tmp_path / "identity.yaml").write_text("splink:\n  comparisons:\n" + head + body)
        with pytest.raises(ConfigError) as err:
            load_identity_config(tmp_path)
        assert "identity.yaml" in str(err.value) and message in str(err.value), str(err.value)


def test_hierarchy_comparison_is_checked(tmp_path):
    bad = {
        "    columns: [street_norm]\n": "at least two",
        "    columns: [street_norm, zip]\n": "zip",
        "    columns: [street_norm, city_norm]\n    column: city_norm\n": "not column",
    }
    assert_comparison_rejected(tmp_path, "  - name: location\n    kind: hierarchy\n", bad)


def name_config() -> IdentityConfig:
    """low_threshold_config with one `name` comparison in place of the first-name and surname comparisons."""
    cfg = low_threshold_config()
    cfg.splink.comparisons = [
        Comparison(
            name="name",
            kind="name",
            columns=["first_name_canonical", "last_name_norm"],
            thresholds=[0.92, 0.94],
            term_frequency=True,
            m_exact=0.8,
            u_exact=0.0001,
        ),
        *(c for c in cfg.splink.comparisons if c.name not in ("first_name", "last_name")),
    ]
    return cfg


def test_a_shared_full_name_weighs_by_the_full_names_own_frequency(con):
    # anna and lena, berg and holm: 12 records each. But "anna berg" is 10 people and "anna holm" 2 records: first
    # name and surname are not independent. Two "anna holm" records are five times less likely to be namesakes
    # than two "anna berg" records, whatever the first-name and surname frequencies say.
    rows = []
    for first, last, n in (
        ("anna", "berg", 10),
        ("lena", "holm", 10),
        ("anna", "holm", 2),
        ("lena", "berg", 2),
    ):
        rows += [
            person(f"salesforce:{first}-{last}-{i}", first, last, email=f"{first}.{last}.{i}@x{i}.com")
            for i in range(n)
        ]
    write_records(con, rows)
    resolve_identities(con, name_config(), "r1", NOW)
    rare = splink_weight(con, "salesforce:anna-holm-0", "salesforce:anna-holm-1")
    common = splink_weight(con, "salesforce:anna-berg-0", "salesforce:anna-berg-1")
    assert rare - common == pytest.approx(math.log2(10 / 2), abs=0.01)
    # with a first-name and a surname comparison, each weighed by its own frequency, the two pairs look alike
    con.execute("DROP TABLE identity_edges")
    resolve_identities(con, low_threshold_config(), "r2", NOW)
    assert splink_weight(con, "salesforce:anna-holm-0", "salesforce:anna-holm-1") == pytest.approx(
        splink_weight(con, "salesforce:anna-berg-0", "salesforce:anna-berg-1"), abs=0.01
    )


def test_name_levels_rank_full_name_over_surname_over_nothing(con):
    base = person("salesforce:base", "katarzyna", "nowakowska", email="base@x.com", country_code="PL")
    variants = {
        "same": ("katarzyna", "nowakowska"),
        "first_typo": ("katarzina", "nowakowska"),
        "surname_only": ("maria", "nowakowska"),
        "nothing": ("maria", "kowalczyk"),
    }
    rows = [base] + [
        person(f"hubspot:{k}", first, last, email=f"{k}@y.com", country_code="PL")
        for k, (first, last) in variants.items()
    ]
    # 300 other people (other names, another country: never compared) make the names' frequencies realistic
    rows += [
        person(f"mailchimp:{i}", f"first{i}", f"surname{i}", email=f"p{i}@z.com", country_code="DE")
        for i in range(300)
    ]
    write_records(con, rows)
    cfg = name_config()
    cfg.splink.blocking_rules = [["country_code"]]  # every pair in Poland scored, whatever its names
    resolve_identities(con, cfg, "r1", NOW)
    w = {k: splink_weight(con, f"hubspot:{k}", "salesforce:base") for k in variants}
    assert w["same"] > w["first_typo"] > w["surname_only"] > w["nothing"], w


def test_name_comparison_is_checked(tmp_path):
    bad = {
        "    columns: [first_name_canonical]\n    thresholds: [0.9, 0.9]\n": "first-name and the surname",
        "    columns: [first_name_canonical, last_name_norm]\n    thresholds: [0.9]\n": "two thresholds",
        "    columns: [first_name_canonical, last_name_norm]\n    thresholds: [0.9, 1.5]\n": "between 0 and 1",
        "    columns: [first_name_canonical, surname]\n    thresholds: [0.9, 0.9]\n": "surname",
    }
    assert_comparison_rejected(tmp_path, "  - name: name\n    kind: name\n", bad)


def _colleagues(con, personal_second: bool) -> None:
    """600 people, each with a CRM contact and a webinar record sharing their work mailbox (deterministic groups:
    the labelled pairs), at 30 companies; plus two records named Ann Lee at corp1 sharing no identifier: with
    two different mailboxes at corp1.com, or (personal_second) the second on a personal address."""
    write_records(con, [])
    con.execute("""
        INSERT INTO int_identity_records (record_key, source_system, source_record_id, record_type, email,
            first_name_norm, first_name_canonical, last_name_norm, company_norm, country_code, is_deleted)
        SELECT s || ':' || i, s, CAST(i AS VARCHAR), 'contact', 'p' || i || '@corp' || (i % 30) || '.com',
               'f' || (i % 97), 'f' || (i % 97), 'l' || (i % 89), 'corp' || (i % 30), 'GB', false
        FROM range(600) t(i), (VALUES ('hubspot'), ('zoom')) v(s)
    """)
    second = "ann.lee@gmail.com" if personal_second else "ann.lee.2@corp1.com"
    con.execute(f"""
        INSERT INTO int_identity_records (record_key, source_system, source_record_id, record_type, email,
            first_name_norm, first_name_canonical, last_name_norm, company_norm, country_code, is_deleted)
        VALUES ('salesforce:a', 'salesforce', 'a', 'contact', 'ann.lee@corp1.com', 'ann', 'ann', 'lee', 'corp1',
                'GB', false),
               ('zoho:b', 'zoho', 'b', 'contact', '{second}', 'ann', 'ann', 'lee', 'corp1', 'GB', false)
    """)


def test_m_learned_from_deterministic_groups_two_mailboxes_at_one_employer_weigh_against(con):
    # Inside the deterministic groups nobody has two mailboxes at one employer, so that level gets m = 1 / (pairs
    # + 2) rather than its prior: two same-named records with different corp1.com addresses are colleagues.
    cfg = IdentityConfig()
    cfg.splink.min_records_for_training = 100
    cfg.thresholds.match_probability = 1e-9
    cfg.thresholds.name_only_match_probability = None  # keep name-only pairs too
    cfg.thresholds.match_weight = -1000
    assert cfg.splink.m_from == "deterministic_groups"
    _colleagues(con, personal_second=False)
    report = resolve_identities(con, cfg, "r1", NOW)
    assert report.splink_trained
    two_mailboxes = splink_weight(con, "salesforce:a", "zoho:b")
    _colleagues(con, personal_second=True)
    con.execute("DROP TABLE customer_key_map")
    con.execute("DROP TABLE customer_merge_log")
    resolve_identities(con, cfg, "r2", NOW)
    personal = splink_weight(con, "salesforce:a", "zoho:b")
    # 600 labelled pairs: m = 1/602 against u (random pairs at one of 30 companies) ~ 1/30: about -4.3 bits
    assert two_mailboxes < personal - 3
