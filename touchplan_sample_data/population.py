"""The true population: persons, the companies they work at, their identifiers and their behaviour.

All columns are built with numpy/pandas vector operations; small vocabularies are looped over, records never.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from touchplan_sample_data import vocab
from touchplan_sample_data.ids import fill_patterns


def obj(values) -> np.ndarray:
    values = list(values)
    arr = np.empty(len(values), dtype=object)
    arr[:] = values
    return arr


@dataclass
class Vocab:
    """Vocabularies as numpy arrays, with derived per-entry variants (typos, nicknames, email tokens)."""

    first: np.ndarray
    first_token: np.ndarray
    first_nick: np.ndarray  # a nickname, else the name itself
    first_typo: np.ndarray  # (n, 3)
    last: np.ndarray
    last_token: np.ndarray
    last_typo: np.ndarray
    countries: list[dict]
    cities: pd.DataFrame
    # per naming culture: (indices into first, draw probabilities), likewise into last, and hyphenated surnames
    first_by_culture: dict[str, tuple[np.ndarray, np.ndarray]]
    last_by_culture: dict[str, tuple[np.ndarray, np.ndarray]]
    hyphenated_by_culture: dict[str, np.ndarray]

    @classmethod
    def build(cls) -> Vocab:
        first = vocab.FIRST_NAMES
        last = vocab.LAST_NAMES + vocab.HYPHENATED_LAST_NAMES
        nick = [vocab.NICKNAMES.get(name, [name])[0] for name in first]
        rows = []
        for ci, country in enumerate(vocab.COUNTRIES):
            for city in vocab.CITIES[country["iso2"]]:
                rows.append((ci, *city))
        cities = pd.DataFrame(
            rows, columns=["country_idx", "city", "state", "tz", "area", "mobile", "postal", "lat", "lon"]
        )
        first_pos = {name: i for i, name in enumerate(first)}
        last_pos = {name: i for i, name in enumerate(last)}

        def ranked(
            names: list[str], pos: dict[str, int], skew: tuple[float, float]
        ) -> tuple[np.ndarray, np.ndarray]:
            idx = np.array([pos[n] for n in dict.fromkeys(names)], dtype=np.int64)
            shift, exponent = skew
            w = (np.arange(len(idx)) + shift) ** -exponent
            return idx, w / w.sum()

        first_by_culture = {
            c: ranked(vocab.FIRST_NAMES_BY_CULTURE[c], first_pos, vocab.NAME_SKEW["first"])
            for c in vocab.CULTURES
        }
        last_by_culture = {
            c: ranked(vocab.surnames(c), last_pos, vocab.NAME_SKEW["last"]) for c in vocab.CULTURES
        }
        hyphenated_by_culture = {
            c: np.array([last_pos[n] for n in vocab.hyphenated_surnames(c) if n in last_pos], dtype=np.int64)
            for c in vocab.CULTURES
            if vocab.HYPHENATED_CULTURES.get(c)
        }
        return cls(
            first=obj(first),
            first_token=obj(vocab.email_token(n) for n in first),
            first_nick=obj(nick),
            first_typo=np.array([vocab.one_char_typos(n) for n in first], dtype=object),
            last=obj(last),
            last_token=obj(vocab.email_token(n) for n in last),
            last_typo=np.array([vocab.one_char_typos(n) for n in last], dtype=object),
            countries=vocab.COUNTRIES,
            cities=cities,
            first_by_culture=first_by_culture,
            last_by_culture=last_by_culture,
            hyphenated_by_culture=hyphenated_by_culture,
        )


COMPANY_LOCAL_PATTERNS = ["first.last", "flast", "first", "first_last", "firstl"]
HIDDEN_DOMAINS = ["proton.me", "mail.com", "gmx.net", "zoho.com", "fastmail.com"]


def _zipf_weights(n: int, shift: float = 8.0) -> np.ndarray:
    w = 1.0 / (np.arange(n) + shift)
    return w / w.sum()


def build_companies(n_persons: int, rng: np.random.Generator, voc: Vocab) -> pd.DataFrame:
    w1, w2, w3 = vocab.COMPANY_WORDS_1, vocab.COMPANY_WORDS_2, vocab.COMPANY_WORDS_3
    capacity = len(w1) * len(w2) * len(w3)
    n = int(np.clip(n_persons // 8, 30, capacity))
    codes = rng.choice(capacity, size=n, replace=False)
    i1, i2, i3 = codes % len(w1), (codes // len(w1)) % len(w2), codes // (len(w1) * len(w2))
    base = obj(w1)[i1] + " " + obj(w2)[i2] + obj(w3)[i3]
    tok1 = obj(vocab.email_token(x) for x in w1)[i1]
    tok2 = obj(vocab.email_token(x.replace(" ", "")) for x in w2)[i2]
    tok3 = obj(vocab.email_token(x.replace("&", "and").replace(" ", "")) for x in w3)[i3]
    country_w = np.array([c["weight"] for c in voc.countries])
    country_idx = rng.choice(len(voc.countries), size=n, p=country_w / country_w.sum())
    tld = obj(c["tld"] for c in voc.countries)[country_idx]
    domain = pd.Series(tok1 + tok2 + tok3 + "." + tld)
    dup = domain.duplicated().to_numpy()
    domain[dup] = (tok1 + tok2 + tok3)[dup] + pd.Series(np.arange(n)).astype(str)[dup] + "." + tld[dup]
    # the legal suffix the company registered under, from its country's forms
    suffix = np.empty(n, dtype=object)
    alt_suffix = np.empty(n, dtype=object)
    for ci, country in enumerate(voc.countries):
        mask = country_idx == ci
        forms = obj(country["suffixes"])
        k = rng.integers(0, len(forms), size=int(mask.sum()))
        suffix[mask] = forms[k]
        alt_suffix[mask] = forms[(k + 1) % len(forms)]
    employees = np.round(np.exp(rng.normal(5.0, 1.6, size=n))).astype(np.int64) + 2
    revenue = np.round(employees * rng.uniform(80_000, 300_000, size=n), -3)
    industry = rng.integers(0, len(vocab.INDUSTRIES), size=n)
    local_pattern = rng.choice(len(COMPANY_LOCAL_PATTERNS), size=n, p=[0.55, 0.2, 0.08, 0.07, 0.1])
    return pd.DataFrame(
        {
            "company": base,
            "suffix": suffix,
            "alt_suffix": alt_suffix,
            "domain": domain.to_numpy(dtype=object),
            "country_idx": country_idx,
            "employees": employees,
            "annual_revenue": revenue,
            "industry_idx": industry,
            "local_pattern": local_pattern,
        }
    )


def _local_part(pattern: np.ndarray, first_tok: np.ndarray, last_tok: np.ndarray) -> np.ndarray:
    last_plain = np.array([t.replace("-", "") for t in pd.unique(last_tok)], dtype=object)
    lookup = dict(zip(pd.unique(last_tok), last_plain, strict=True))
    last_nohyphen = pd.Series(last_tok).map(lookup).to_numpy(dtype=object)
    initial = pd.Series(first_tok).str.slice(0, 1).to_numpy(dtype=object)
    last_initial = pd.Series(last_nohyphen).str.slice(0, 1).to_numpy(dtype=object)
    options = [
        first_tok + "." + last_nohyphen,
        initial + last_nohyphen,
        first_tok,
        first_tok + "_" + last_nohyphen,
        first_tok + last_initial,
    ]
    out = options[0].copy()
    for k in range(1, len(options)):
        mask = pattern == k
        out[mask] = options[k][mask]
    return out


def draw_names(
    country_idx: np.ndarray, rng: np.random.Generator, voc: Vocab
) -> tuple[np.ndarray, np.ndarray]:
    """First and last name indices: a naming culture per person from their country, then names from that
    culture's lists with its frequency skew (one vectorised draw per country and per culture)."""
    n = len(country_idx)
    cultures = vocab.CULTURES
    culture = np.zeros(n, dtype=np.int64)
    for ci, country in enumerate(voc.countries):
        mask = country_idx == ci
        if not mask.any():
            continue
        mix = vocab.COUNTRY_CULTURES[country["iso2"]]
        w = np.array([mix.get(c, 0.0) for c in cultures]) + 0.002  # anyone can live anywhere
        culture[mask] = rng.choice(len(cultures), size=int(mask.sum()), p=w / w.sum())
    first_idx = np.empty(n, dtype=np.int64)
    last_idx = np.empty(n, dtype=np.int64)
    for k, c in enumerate(cultures):
        mask = culture == k
        m = int(mask.sum())
        if not m:
            continue
        f_idx, f_p = voc.first_by_culture[c]
        l_idx, l_p = voc.last_by_culture[c]
        first_idx[mask] = f_idx[rng.choice(len(f_idx), size=m, p=f_p)]
        last = l_idx[rng.choice(len(l_idx), size=m, p=l_p)]
        hyph = voc.hyphenated_by_culture.get(c)
        if hyph is not None and len(hyph):
            double = rng.random(m) < vocab.HYPHENATED_CULTURES[c]
            last[double] = hyph[rng.integers(0, len(hyph), size=int(double.sum()))]
        last_idx[mask] = last
    return first_idx, last_idx


def build_persons(
    n: int, rng: np.random.Generator, voc: Vocab, as_of: datetime
) -> tuple[pd.DataFrame, pd.DataFrame]:
    companies = build_companies(n, rng, voc)
    idx = np.arange(n)
    company_idx = rng.choice(len(companies), size=n, p=_zipf_weights(len(companies), 5.0))
    # person country: usually the company's country
    comp_country = companies["country_idx"].to_numpy()[company_idx]
    country_w = np.array([c["weight"] for c in voc.countries])
    other_country = rng.choice(len(voc.countries), size=n, p=country_w / country_w.sum())
    country_idx = np.where(rng.random(n) < 0.85, comp_country, other_country)
    first_idx, last_idx = draw_names(country_idx, rng, voc)
    # city within country
    cities = voc.cities
    city_idx = np.empty(n, dtype=np.int64)
    for ci in range(len(voc.countries)):
        mask = country_idx == ci
        options = np.flatnonzero(cities["country_idx"].to_numpy() == ci)
        city_idx[mask] = options[rng.integers(0, len(options), size=int(mask.sum()))]
    iso2 = obj(c["iso2"] for c in voc.countries)[country_idx]
    # address
    street = np.empty(n, dtype=object)
    number = rng.integers(1, 400, size=n).astype(str).astype(object)
    for ci, country in enumerate(voc.countries):
        mask = country_idx == ci
        m = int(mask.sum())
        style = country["street_style"]
        names = obj(vocab.STREET_NAMES[style])[rng.integers(0, len(vocab.STREET_NAMES[style]), size=m)]
        if style == "number_first":
            types = obj(t[0] for t in vocab.STREET_TYPES)[rng.integers(0, len(vocab.STREET_TYPES), size=m)]
            street[mask] = number[mask] + " " + names + " " + types
        elif style == "number_first_fr":
            street[mask] = number[mask] + " " + names
        elif style == "name_first_es":
            street[mask] = names + ", " + number[mask]
        else:
            street[mask] = names + " " + number[mask]
    postal = fill_patterns(cities["postal"].to_numpy(dtype=object)[city_idx], rng)
    birth_date = np.datetime64("1955-01-01") + rng.integers(0, 365 * 46, size=n).astype("timedelta64[D]")
    # phones: unique per person (a bijective scramble of the within-country rank)
    order = rng.permutation(n)
    rank = np.empty(n, dtype=np.int64)
    for ci in range(len(voc.countries)):
        members = order[country_idx[order] == ci]
        rank[members] = np.arange(len(members))
    total_len = np.array([sum(c["groups"]) for c in voc.countries])[country_idx]
    area = cities["area"].to_numpy(dtype=object)[city_idx]
    mob = cities["mobile"].to_numpy(dtype=object)[city_idx]
    area_len = pd.Series(area).str.len().to_numpy()
    mob_len = pd.Series(mob).str.len().to_numpy()
    phone_nsn = _digits(area, rank * 7919 + 104729, total_len - area_len)
    mobile_nsn = _digits(mob, rank * 6271 + 3571, total_len - mob_len)
    title_w = np.array([t[4] for t in vocab.TITLES])
    title_idx = rng.choice(len(vocab.TITLES), size=n, p=title_w / title_w.sum())
    # emails
    ftok = voc.first_token[first_idx]
    ltok = voc.last_token[last_idx]
    domain = companies["domain"].to_numpy(dtype=object)
    pattern = companies["local_pattern"].to_numpy()
    email_work = _local_part(pattern[company_idx], ftok, ltok) + "@" + domain[company_idx]
    has_old = rng.random(n) < 0.22
    old_company = rng.choice(len(companies), size=n)
    old_company = np.where(old_company == company_idx, (old_company + 1) % len(companies), old_company)
    email_old = _local_part(pattern[old_company], ftok, ltok) + "@" + domain[old_company]
    freemail = np.empty(n, dtype=object)
    for ci, country in enumerate(voc.countries):
        mask = country_idx == ci
        doms = obj(country["freemail"])
        freemail[mask] = doms[rng.integers(0, len(doms), size=int(mask.sum()))]
    year2 = pd.Series(birth_date.astype("datetime64[Y]").astype(int) + 1970).astype(str).str.slice(2, 4)
    style = rng.integers(0, 3, size=n)
    local_personal = np.where(
        style == 0,
        ftok + "." + ltok + year2.to_numpy(dtype=object),
        np.where(
            style == 1,
            ftok + ltok,
            ftok[:] + "." + ltok + rng.integers(1, 999, size=n).astype(str).astype(object),
        ),
    )
    email_personal = local_personal + "@" + freemail
    hidden_dom = obj(HIDDEN_DOMAINS)[rng.integers(0, len(HIDDEN_DOMAINS), size=n)]
    email_hidden = (
        pd.Series(ftok).str.slice(0, 1).to_numpy(dtype=object)
        + ltok
        + "."
        + rng.integers(1000, 9999, size=n).astype(str).astype(object)
        + "@"
        + hidden_dom
    )
    email_work, email_personal, email_old, email_hidden = _make_unique(
        [email_work, email_personal, email_old, email_hidden], idx
    )
    primary_is_work = rng.random(n) < 0.75
    tz = cities["tz"].to_numpy(dtype=object)[city_idx]
    persons = pd.DataFrame(
        {
            "person_idx": idx,
            "person_id": pd.Series(idx + 1).astype(str).str.zfill(7).radd("P").to_numpy(dtype=object),
            "first_idx": first_idx,
            "last_idx": last_idx,
            "first_name": voc.first[first_idx],
            "last_name": voc.last[last_idx],
            "birth_date": birth_date,
            "country_idx": country_idx,
            "country_code": iso2,
            "city_idx": city_idx,
            "city": cities["city"].to_numpy(dtype=object)[city_idx],
            "state": cities["state"].to_numpy(dtype=object)[city_idx],
            "street": street,
            "postal_code": postal,
            "time_zone": tz,
            "phone_nsn": phone_nsn,
            "mobile_nsn": mobile_nsn,
            "company_idx": company_idx,
            "old_company_idx": np.where(has_old, old_company, -1),
            "title_idx": title_idx,
            "email_work": email_work,
            "email_personal": email_personal,
            "email_old": np.where(has_old, email_old, None),
            "email_hidden": email_hidden,
            "primary_is_work": primary_is_work,
            "opted_out": rng.random(n) < 0.08,
            "engagement": rng.beta(1.6, 4.0, size=n),
        }
    )
    _ = as_of, timedelta
    return persons, companies


def _digits(prefix: np.ndarray, nums: np.ndarray, widths: np.ndarray) -> np.ndarray:
    """prefix + nums written with exactly `width` digits (nums wrapped into that many digits)."""
    out = np.empty(len(prefix), dtype=object)
    for w in np.unique(widths):
        mask = widths == w
        vals = pd.Series(nums[mask] % (10 ** int(w))).astype(str).str.zfill(int(w)).to_numpy(dtype=object)
        out[mask] = prefix[mask] + vals
    return out


def _make_unique(columns: list[np.ndarray], idx: np.ndarray) -> list[np.ndarray]:
    """Emails must belong to one person: suffix the person index onto any address seen before."""
    n = len(idx)
    stacked = np.concatenate(columns)
    owner = np.tile(idx, len(columns))
    for round_ in range(4):
        # an address repeated by the same person across columns is fine only once; anything repeated is rewritten
        dup = duplicated_first(stacked)
        if not dup.any():
            break
        local = pd.Series(stacked[dup], dtype=object).str.split("@", n=1, expand=True)
        stacked[dup] = (
            local[0].to_numpy(dtype=object)
            + "."
            + (owner[dup] + 1).astype(str).astype(object)
            + ("" if round_ == 0 else str(round_))
            + "@"
            + local[1].to_numpy(dtype=object)
        )
    return [stacked[k * n : (k + 1) * n] for k in range(len(columns))]


def duplicated_first(values: np.ndarray) -> np.ndarray:
    """Same as `pd.Series(values).duplicated(keep="first")` for an object array of strings, but by sorting 64-bit
    hashes instead of one big Python-object hash table (which thrashes the cache at millions of values).

    Equal hashes are confirmed by comparing the strings; on a hash collision between different strings it falls
    back to pandas, so the result is exact.
    """
    values = np.asarray(values, dtype=object)
    n = len(values)
    if n == 0:
        return np.zeros(0, dtype=bool)
    h = pd.util.hash_array(values, categorize=False)
    order = np.argsort(h, kind="stable")  # stable: the first of equal hashes is the earliest position
    hs = h[order]
    same = np.empty(n, dtype=bool)
    same[0] = False
    np.equal(hs[1:], hs[:-1], out=same[1:])
    cand = np.flatnonzero(same)
    head = np.maximum.accumulate(np.where(same, 0, np.arange(n)))
    if not (values[order[cand]] == values[order[head[cand]]]).all():
        return pd.Series(values, dtype=object).duplicated(keep="first").to_numpy()
    dup = np.zeros(n, dtype=bool)
    dup[order[cand]] = True
    return dup
