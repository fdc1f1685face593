"""The email rule is written once (issue #18): dbt_project.yml `vars.email_pattern`. dbt staging nulls an address
that does not match it (macro normalise_email, RE2 in DuckDB) and the Great Expectations suites check raw emails
with it (build_suites.EMAIL_REGEX, Python `re` on pandas), so both engines must read it alike. That staging really
applies it is pinned by the dbt unit test `email_rule_is_the_quality_suites_rule` (stg_crm__contacts.yml)."""

from __future__ import annotations

import re

import duckdb
import yaml

from pipelines.lib.quality.build_suites import EMAIL_REGEX
from pipelines.lib.settings import DBT_PROJECT_DIR, PROJECT_ROOT

ADDRESSES = {
    "bob.smith+news@gmail.com": True,
    "chloe@dupont.fr": True,
    "a.b-c@sub.example.co.uk": True,
    "x@example.museum": True,
    "a@b.c": False,  # one-letter top-level domain
    "x@host.123": False,  # numeric top-level domain
    "x@10.0.0.1": False,
    "user@example.com.": False,  # trailing dot
    "user@example.xn--p1ai": False,  # punycode top-level domain: the strict rule rejects it
    "not-an-email": False,
    "a@@b.com": False,
    "a b@c.com": False,
    "@example.com": False,
    "a@example": False,
}


def test_the_quality_suites_read_the_dbt_var():
    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    assert project["vars"]["email_pattern"] == EMAIL_REGEX


def test_duckdb_and_python_read_the_rule_alike():
    con = duckdb.connect()
    for address, valid in ADDRESSES.items():
        in_python = re.fullmatch(EMAIL_REGEX, address) is not None
        in_duckdb = con.execute("SELECT regexp_full_match(?, ?)", [address, EMAIL_REGEX]).fetchone()[0]
        assert (in_python, in_duckdb) == (valid, valid), address


def test_no_other_email_regex_in_sql_or_python():
    """A second copy of an email pattern (`...@[^@...`) in a model, a macro or the pipeline code would drift."""
    pattern_start = re.compile(r"\[\^@\\s\]\+@")
    files = [
        *DBT_PROJECT_DIR.glob("models/**/*.sql"),
        *DBT_PROJECT_DIR.glob("macros/**/*.sql"),
        *(PROJECT_ROOT / "pipelines").glob("**/*.py"),
    ]
    copies = [
        str(p.relative_to(PROJECT_ROOT)) for p in files if pattern_start.search(p.read_text(encoding="utf-8"))
    ]
    assert copies == [], copies
