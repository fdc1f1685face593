"""`config/identity.yaml`: matching thresholds, Splink blocking and comparisons, over-merge guards."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from pipelines.lib.config_loader import load_yaml_model

# Columns of int_identity_records that Splink may compare or block on.
SPLINK_COLUMNS = (
    "first_name_canonical",
    "last_name_norm",
    "street_norm",
    "city_norm",
    "postal_code_norm",
    "country_code",
    "time_zone",
    "company_norm",
    "title_norm",
    "birth_date",
    "phone_e164",
    "email",
    # derived in resolve._prepare_records:
    "company_key",  # company_norm without spaces or punctuation ('metro works europe' -> 'metroworkseurope')
    "email_org",  # first label of the email domain ('metroworkseurope' for x@metroworkseurope.com)
    "birth_year2",  # last two digits of the birth year
    "email_year2",  # two trailing digits of the email local part ('william.singh72@...' -> '72')
    "work_email",  # the email when its domain is some record's employer (not a free-mail or personal address)
    # blocking keys that survive typos (pipelines/lib/identity/blocking.py), derived in resolve._prepare_records:
    "first_name_soundex",  # American Soundex of first_name_canonical ('robert' -> 'R163')
    "last_name_soundex",  # American Soundex of the surname
    "name_soundex_pair",  # both Soundex codes in either order ('H652|K365'): survives a first name / surname swap
    "first_name_prefix3",  # first three letters of first_name_canonical
    "last_name_prefix3",  # first three letters of the surname
    "postal_code_prefix3",  # first three characters of the postal code
    "street_head",  # first two words of the street line, house number and street name ('45 richardson')
)

DEFAULT_ROLE_MAILBOXES = [
    "info",
    "sales",
    "support",
    "admin",
    "office",
    "contact",
    "hello",
    "noreply",
    "no-reply",
    "donotreply",
    "do-not-reply",
    "marketing",
    "team",
    "help",
    "billing",
    "accounts",
    "enquiries",
    "inquiries",
    "hr",
    "jobs",
    "careers",
    "webmaster",
    "postmaster",
    "mail",
    "service",
    "newsletter",
    "press",
    "media",
    "reception",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Thresholds(_Strict):
    """A Splink pair becomes an edge when its match probability (the model's, prior included) reaches
    match_probability, and, if set, its match weight reaches match_weight."""

    match_probability: float = Field(0.8, gt=0, le=1)
    # Optional extra floor on the weight (None: the probability alone decides, docs/identity.md).
    match_weight: float | None = None
    # A pair whose only evidence for a match comes from the name comparisons (`name_comparisons`: no other
    # comparison has a positive match weight, e.g. a webinar sign-up with nothing but a name against a CRM
    # contact) must reach this probability instead (None: match_probability for every pair). Measured in
    # docs/identity.md: the model is over-confident on such pairs (a full name is shared by more people than
    # the product of the first-name and surname frequencies says).
    name_only_match_probability: float | None = Field(0.95, gt=0, le=1)
    name_comparisons: list[str] = Field(default_factory=lambda: ["first_name", "last_name", "name_swap"])


class Comparison(_Strict):
    """One Splink comparison.

    kind: `string` (exact, then Jaro-Winkler >= each threshold), `levenshtein` (exact, then edit distance <= each
    threshold), `exact`, `date` (exact, one typo/transposition in the ISO text, within ten years, more than ten years apart), `cross` (`column` of one
    record against `other_column` of the other), or `hierarchy`: `columns` from the most to the least specific
    (the shipped `location`: street, postal code, city) compared as one piece of evidence, so agreeing columns
    that imply each other (same street, hence same postal code and city) are not counted several times. Its
    levels: the first column equal (then within each edit-distance threshold), and for every later column two
    levels: equal where no more specific column can be compared (missing on a side), and equal although a more
    specific column differs (same city, another street). `mailbox`: the email addresses of `column` (a list per
    record: every address of its group) share an address, else share a domain but not an address (two mailboxes
    at one employer: two colleagues, or one person's alias), else neither. `name`: `columns` are the first name
    and the surname, compared together, `thresholds` their Jaro-Winkler similarities: same full name, same surname
    and a similar first name, same first name and a similar surname, both similar, same surname only, same first
    name only. `swap`: `columns` are the first name and the surname; the levels: equal in the reverse order (one
    record's first name is the other's surname and back), then similar in the reverse order (Jaro-Winkler >= each
    threshold on both crossings). With term_frequency (kind `name`) the same-full-name level is weighed by how common the full name is (first and
    surname are not independent: names are regional, and namesakes are several times more common than the product
    of the two frequencies predicts), the same-surname levels by the surname's and the same-first-name level by the
    first name's.
    `employer`: `columns` are the company, its key without spaces and the organisation of the email domain (the
    last two lists of every value in the record's group); the levels: the same company (term-frequency adjusted
    with term_frequency), similar companies (Jaro-Winkler >= each threshold), one record's company is the other's
    email domain, else different. One piece of evidence: a company and a work email of one employer are not
    counted twice (the separate `company` and `cross` comparisons did, and same-named colleagues looked certain).
    m_exact / u_exact are the prior m and u of the exact (first) level, used as starting values (and as the model
    when the data is too small to train).
    """

    name: str
    column: str | None = None
    kind: Literal[
        "string", "levenshtein", "exact", "date", "cross", "hierarchy", "mailbox", "name", "swap", "employer"
    ] = "string"
    other_column: str | None = None
    columns: list[str] = Field(default_factory=list)
    thresholds: list[float] = Field(default_factory=list)
    term_frequency: bool = False
    m_exact: float = Field(0.8, gt=0, lt=1)
    u_exact: float = Field(0.01, gt=0, lt=1)

    @field_validator("column", "other_column")
    @classmethod
    def _known_column(cls, value: str | None) -> str | None:
        if value is not None and value not in SPLINK_COLUMNS:
            raise ValueError(f"unknown column {value!r}; expected one of {', '.join(SPLINK_COLUMNS)}")
        return value

    @field_validator("columns")
    @classmethod
    def _known_columns(cls, values: list[str]) -> list[str]:
        unknown = [v for v in values if v not in SPLINK_COLUMNS]
        if unknown:
            raise ValueError(
                f"unknown column(s) {', '.join(map(repr, unknown))}; expected columns from {', '.join(SPLINK_COLUMNS)}"
            )
        if len(set(values)) != len(values):
            raise ValueError("a column is listed twice")
        return values

    @model_validator(mode="after")
    def _thresholds_fit_kind(self) -> Comparison:
        if self.kind == "swap":
            if len(self.columns) != 2 or self.column is not None or self.other_column is not None:
                raise ValueError(
                    "kind 'swap' needs `columns`: the first-name and the surname column, nothing else"
                )
            if any(not 0 < t < 1 for t in self.thresholds):
                raise ValueError("kind 'swap' thresholds are Jaro-Winkler similarities between 0 and 1")
            return self
        if self.kind == "name":
            if len(self.columns) != 2 or self.column is not None or self.other_column is not None:
                raise ValueError(
                    "kind 'name' needs `columns`: the first-name and the surname column, nothing else"
                )
            if len(self.thresholds) != 2 or any(not 0 < t < 1 for t in self.thresholds):
                raise ValueError(
                    "kind 'name' needs two thresholds: the Jaro-Winkler similarity of the first names and of the "
                    "surnames, each between 0 and 1"
                )
            return self
        if self.kind == "employer":
            if len(self.columns) != 3 or self.column is not None or self.other_column is not None:
                raise ValueError(
                    "kind 'employer' needs `columns`: the company, its key without spaces, the email's organisation"
                )
            if any(not 0 < t < 1 for t in self.thresholds):
                raise ValueError("kind 'employer' thresholds are Jaro-Winkler similarities between 0 and 1")
            return self
        if self.kind == "hierarchy":
            if len(self.columns) < 2:
                raise ValueError("kind 'hierarchy' needs `columns`: at least two, most specific first")
            if self.column is not None or self.other_column is not None or self.term_frequency:
                raise ValueError(
                    "kind 'hierarchy' takes `columns`, not column / other_column / term_frequency"
                )
            if any(t < 1 or t != int(t) for t in self.thresholds):
                raise ValueError(
                    "hierarchy thresholds are edit distances on the first column: whole numbers >= 1"
                )
            return self
        if self.columns:
            raise ValueError(
                "`columns` is only allowed with kinds 'hierarchy', 'name', 'swap' and 'employer'"
            )
        if self.column is None:
            raise ValueError(f"kind {self.kind!r} needs `column`")
        if self.kind in ("exact", "date", "cross", "mailbox") and self.thresholds:
            raise ValueError(f"kind {self.kind!r} takes no thresholds")
        if (self.kind == "cross") != (self.other_column is not None):
            raise ValueError("other_column is required with kind 'cross' and only allowed with it")
        if self.kind == "string" and any(not 0 < t < 1 for t in self.thresholds):
            raise ValueError("Jaro-Winkler thresholds must be between 0 and 1")
        if self.kind == "levenshtein" and any(t < 1 or t != int(t) for t in self.thresholds):
            raise ValueError("Levenshtein thresholds must be whole numbers >= 1")
        return self


def _default_comparisons() -> list[Comparison]:
    return [
        Comparison(
            name="first_name",
            column="first_name_canonical",
            kind="string",
            thresholds=[0.92, 0.85],
            term_frequency=True,
            m_exact=0.85,
            u_exact=0.01,
        ),
        Comparison(
            name="last_name",
            column="last_name_norm",
            kind="string",
            thresholds=[0.94, 0.88],
            term_frequency=True,
            m_exact=0.88,
            u_exact=0.002,
        ),
        Comparison(
            name="name_swap",
            kind="swap",
            columns=["first_name_canonical", "last_name_norm"],
            thresholds=[0.9],
            m_exact=0.05,
            u_exact=0.00001,
        ),
        Comparison(
            name="location",
            kind="hierarchy",
            # not country or time zone: names are regional, so nearly every same-name pair agrees on them, and
            # counting that as independent evidence made namesakes look certain (docs/identity.md)
            columns=["street_norm", "postal_code_norm", "city_norm"],
            thresholds=[2],
            m_exact=0.7,
            u_exact=0.0002,
        ),
        Comparison(
            # the company, and the company against the other record's email domain, as one piece of evidence
            name="employer",
            kind="employer",
            columns=["company_norm", "company_key", "email_org"],
            thresholds=[0.9],
            term_frequency=True,
            m_exact=0.7,
            u_exact=0.002,
        ),
        Comparison(name="title", column="title_norm", kind="exact", m_exact=0.6, u_exact=0.02),
        Comparison(
            name="birth_year_email",
            column="birth_year2",
            other_column="email_year2",
            kind="cross",
            m_exact=0.2,
            u_exact=0.01,
        ),
        Comparison(name="work_mailbox", column="work_email", kind="mailbox", m_exact=0.5, u_exact=0.00001),
        Comparison(name="birth_date", column="birth_date", kind="date", m_exact=0.9, u_exact=0.0001),
        Comparison(name="phone", column="phone_e164", kind="exact", m_exact=0.6, u_exact=0.00001),
        Comparison(name="email", column="email", kind="exact", m_exact=0.5, u_exact=0.00001),
    ]


class SplinkSettings(_Strict):
    enabled: bool = True
    # What Splink scores. `records`: every record, its missing attributes filled from the group of records already
    # joined to it by deterministic edges (and the cross-comparison columns holding every value of the group).
    # `groups`: one row per such group (fewer rows, so faster at scale; slightly lower recall on the benchmark).
    compare: Literal["records", "groups"] = "records"
    # Pairs are scored only when they agree on every column of at least one rule (Splink `block_on`).
    # The shipped rules survive a typo in any one attribute (Soundex keys, docs/identity.md).
    blocking_rules: list[list[str]] = Field(
        default_factory=lambda: [
            ["first_name_canonical", "last_name_norm"],
            ["name_soundex_pair"],
            ["last_name_soundex", "birth_date"],
            ["first_name_soundex", "birth_date"],
            ["birth_date", "postal_code_norm"],
            ["first_name_soundex", "postal_code_norm"],
            ["last_name_soundex", "postal_code_norm"],
            ["birth_date", "city_norm"],
            ["last_name_soundex", "city_norm"],
            ["street_head", "postal_code_norm"],
            ["street_head", "city_norm"],
            ["street_head", "birth_date"],
            ["phone_e164"],
        ]
    )
    # A blocking key (the values of one rule's columns) shared by more than this many records pairs nothing under
    # that rule (null: no cap). Applied at every size: such a key is a broad value (a long street in a big city, a
    # common surname sound in a city) whose pairs grow with the square of the records sharing it; a match in it
    # is nearly always paired by a narrower rule too (measured in docs/identity.md, "Identity at 1M").
    max_records_per_blocking_key: int | None = Field(30, ge=2)
    # EM training runs once per rule; each rule should give pairs that are between 1% and 99% matches.
    em_blocking_rules: list[list[str]] = Field(
        default_factory=lambda: [
            # exact columns: Splink switches off the comparisons of a pass's blocking columns; on Soundex keys the
            # name comparisons stayed on and the namesakes in the block trained the match class (FEBRL2: m of a
            # birth date decades off 0.26, true 0.055; on exact names 0.057)
            ["first_name_canonical", "last_name_norm"],
            ["birth_date"],
        ]
    )
    em_max_pairs: float = Field(2e6, gt=0)
    # Where the m probabilities come from when training: `deterministic_groups` (the pairs of records already
    # joined by email, phone + surname or a cross-reference are labelled matches: robust at any size) or `em`
    # (expectation maximisation on each em_blocking_rules pass: unsupervised; at 1M records it can settle on
    # "same company" rather than "same person" as the matching class, see docs/identity.md).
    m_from: Literal["deterministic_groups", "em"] = "deterministic_groups"
    # With m_from: deterministic_groups, a comparison takes its m from the labelled pairs only when at least this
    # many of them carry a value on both sides; otherwise it keeps EM's m.
    min_labelled_pairs: int = Field(200, ge=1)
    comparisons: list[Comparison] = Field(default_factory=_default_comparisons)
    # Prior for the share of random pairs that match; re-estimated from deterministic rules when training.
    probability_two_random_records_match: float = Field(1e-5, gt=0, lt=1)
    recall_of_deterministic_rules: float = Field(0.7, gt=0, le=1)
    # After training, re-estimate that prior from the model itself (expected matches among the scored pairs /
    # all pairs, to a fixed point): the match probability, and so the threshold, then follows from the data.
    calibrate_prior: bool = True
    # With calibrate_prior: u of each level as measured among non-matches. Random sampling counts the matching pairs
    # among the random pairs too (a share `prior` of them, at each level in proportion to its m); where the prior is
    # high (small or duplicate-heavy data: FEBRL 1e-3) they are most of the pairs that agree on a birth date or a
    # street, and a full agreement weighs no more than the prior. Corrected: u' = (u - prior * m) / (1 - prior).
    u_among_non_matches: bool = True
    train: bool = True
    min_records_for_training: int = Field(500, ge=2)
    u_max_pairs: float = Field(1e6, gt=0)
    seed: int = 42
    # Above this many records the model is trained on a random sample of them (then scores every record).
    training_sample_records: int = Field(100_000, ge=1000)
    # Prediction runs in ceil(records / predict_chunk_records) chunks of left-hand records (bounded memory).
    predict_chunk_records: int = Field(500_000, ge=1000)
    # Retrain policy (docs/identity.md, "When the model is trained"): a run reuses the latest stored trained model
    # (identity_model) instead of training when the configuration that shapes the model is unchanged (its
    # fingerprint), Splink's input records differ by at most this share from the records that model was trained on,
    # and the model is at most retrain_after_days old (by the run's as-of time). `touchplan run --retrain-identity`
    # trains regardless. Neither key is part of the fingerprint: changing the policy keeps the model.
    retrain_when_records_change: float = Field(0.10, ge=0)
    retrain_after_days: float = Field(30, ge=0)

    @field_validator("blocking_rules", "em_blocking_rules")
    @classmethod
    def _known_columns(cls, rules: list[list[str]]) -> list[list[str]]:
        for i, rule in enumerate(rules):
            if not rule:
                raise ValueError(f"rule [{i}] is empty")
            unknown = [c for c in rule if c not in SPLINK_COLUMNS]
            if unknown:
                raise ValueError(
                    f"rule [{i}] names unknown column(s) {', '.join(unknown)}; "
                    f"expected columns from {', '.join(SPLINK_COLUMNS)}"
                )
        return rules

    @model_validator(mode="after")
    def _unique_names(self) -> SplinkSettings:
        names = [c.name for c in self.comparisons]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"comparison names must be unique; repeated: {', '.join(dupes)}")
        return self


class Guards(_Strict):
    role_mailboxes: list[str] = Field(default_factory=lambda: sorted(DEFAULT_ROLE_MAILBOXES))
    # An email or phone shared by more distinct people (first name + surname) than this makes no edges.
    max_people_per_identifier: int = Field(3, ge=1)
    # A cluster larger than this loses its weakest Splink edges until it fits (else its records stay apart).
    max_cluster_size: int = Field(50, ge=2)
    # Groups of records already joined by deterministic edges contradict each other when both carry birth dates
    # and none of them is within one typo of the other's (conflicting_birth_date), or both carry postal codes and
    # none is within one edit (conflicting_postal_code). Splink edges between contradicting groups are dropped,
    # and a cluster that still joins contradicting groups loses its weakest Splink edges until it does not.
    conflicting_birth_date: bool = True
    conflicting_postal_code: bool = True

    @field_validator("role_mailboxes")
    @classmethod
    def _lower(cls, values: list[str]) -> list[str]:
        return sorted({v.strip().lower().rstrip("@") for v in values if v.strip()})


class IdentityConfig(_Strict):
    thresholds: Thresholds = Field(default_factory=Thresholds)
    splink: SplinkSettings = Field(default_factory=SplinkSettings)
    guards: Guards = Field(default_factory=Guards)
    # Gmail-style dot and plus-tag folding in email normalisation (applied by the dbt staging models).
    email_provider_rules: bool = False
    # Cross-reference edges: column of int_identity_records -> source system whose record id it holds.
    xref_columns: dict[str, str] = Field(
        default_factory=lambda: {
            "xref_hubspot_id": "hubspot",
            "xref_salesforce_id": "salesforce",
            "converted_contact_id": "salesforce",
            "master_record_id": "salesforce",
        }
    )

    @model_validator(mode="after")
    def _name_comparisons_exist(self) -> IdentityConfig:
        known = {c.name for c in self.splink.comparisons}
        unknown = [n for n in self.thresholds.name_comparisons if n not in known]
        if unknown and self.thresholds.name_only_match_probability is not None:
            raise ValueError(
                f"thresholds.name_comparisons names no comparison in splink.comparisons: {', '.join(unknown)}"
            )
        return self


def load_identity_config(config_dir: Path) -> IdentityConfig:
    """`<config_dir>/identity.yaml`; a missing file means the defaults."""
    path = Path(config_dir) / "identity.yaml"
    if not path.exists():
        return IdentityConfig()
    return load_yaml_model(path, IdentityConfig)


def identity_dbt_vars(config: IdentityConfig) -> dict[str, object]:
    """What the dbt staging models need from this file."""
    return {"email_provider_rules": config.email_provider_rules}
