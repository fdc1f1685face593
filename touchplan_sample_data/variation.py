"""How one true person looks in one source record: the variation real systems show for the same person."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from touchplan_sample_data import vocab
from touchplan_sample_data.ids import chars_to_str
from touchplan_sample_data.population import Vocab, obj

PHONE_FORMATS = ["e164", "intl", "national", "dashed", "dotted", "double_zero"]
COUNTRY_STYLES = ["name", "iso2", "iso3", "long", "alt", "local"]


@dataclass
class Style:
    """Per-system habits: how often a field is varied or left empty, and how values are written."""

    nickname: float = 0.06
    first_typo: float = 0.02
    last_typo: float = 0.015
    lower_names: float = 0.01
    email_title_case: float = 0.06
    email_upper: float = 0.02
    email_whitespace: float = 0.03
    email_other: float = 0.12  # share of records using the person's other (work/personal/old) email
    missing_email: float = 0.0
    missing_phone: float = 0.25
    missing_mobile: float = 0.5
    missing_address: float = 0.2
    missing_title: float = 0.1
    missing_company: float = 0.03
    phone_formats: list[float] = field(default_factory=lambda: [0.2, 0.25, 0.25, 0.15, 0.05, 0.1])
    country_styles: list[float] = field(default_factory=lambda: [0.6, 0.1, 0.05, 0.05, 0.15, 0.05])
    company_suffix: list[float] = field(
        default_factory=lambda: [0.55, 0.15, 0.2, 0.1]
    )  # own, alt, none, comma
    title_alt: float = 0.2


def _phone_layout(fmt: str, country: dict) -> list:
    """The pieces of one notation: literal text (str) or a digit group (int index into the country's groups)."""
    groups = len(country["groups"])
    cc, trunk = country["cc"], country["trunk"]

    def joined(sep: str) -> list:
        out: list = [0]
        for g in range(1, groups):
            out += [sep, g]
        return out

    nanp = cc == "1"
    if fmt == "e164":
        return ["+" + cc, *range(groups)]
    if fmt == "intl":
        return ["+" + cc + " ", *joined(" ")]
    if fmt == "national":
        return ["(", 0, ") ", 1, "-", 2] if nanp else [trunk, *joined(" ")]
    if fmt == "dashed":
        return joined("-") if nanp else [trunk, *joined("-")]
    if fmt == "dotted":
        return joined(".") if nanp else [trunk, *joined(".")]
    if fmt == "double_zero":
        return ["00" + cc + " ", *joined(" ")]
    raise ValueError(f"unknown phone format {fmt!r}")


def format_phone(nsn: np.ndarray, country_idx: np.ndarray, fmt: np.ndarray, voc: Vocab) -> np.ndarray:
    """Write national significant numbers in one of several real-world notations, per country.

    Numbers of one country have one length, so each (country, notation) is assembled as a uint8 character
    matrix from column slices of the digits and literal separators.
    """
    out = np.empty(len(nsn), dtype=object)
    nsn = np.asarray(nsn, dtype=object)
    for ci, country in enumerate(voc.countries):
        cmask = country_idx == ci
        if not cmask.any():
            continue
        groups = country["groups"]
        width = sum(groups)
        starts = np.cumsum([0, *groups])
        digits = nsn[cmask].astype(f"S{width}").view(np.uint8).reshape(-1, width)
        f = fmt[cmask]
        res = np.empty(len(digits), dtype=object)
        for name in PHONE_FORMATS:
            m = f == name
            if not m.any():
                continue
            sub = digits[m]
            cols = []
            for piece in _phone_layout(name, country):
                if isinstance(piece, str):
                    if piece:
                        lit = np.frombuffer(piece.encode("ascii"), dtype=np.uint8)
                        cols.append(np.broadcast_to(lit, (len(sub), len(lit))))
                else:
                    cols.append(sub[:, starts[piece] : starts[piece + 1]])
            res[m] = chars_to_str(np.concatenate(cols, axis=1))
        out[cmask] = res
    return out


def country_display(country_idx: np.ndarray, styles: np.ndarray, voc: Vocab) -> np.ndarray:
    table = {
        "name": obj(c["name"] for c in voc.countries),
        "iso2": obj(c["iso2"] for c in voc.countries),
        "iso3": obj(c["iso3"] for c in voc.countries),
        "long": obj(c["long"] for c in voc.countries),
        "alt": obj(c["alts"][0] for c in voc.countries),
        "local": obj(c["local"] for c in voc.countries),
    }
    out = np.empty(len(country_idx), dtype=object)
    for name, arr in table.items():
        m = styles == name
        out[m] = arr[country_idx[m]]
    return out


def vary_email_case(emails: np.ndarray, rng: np.random.Generator, style: Style) -> np.ndarray:
    """Same mailbox, written differently: Title.Case local part, upper case, stray whitespace."""
    n = len(emails)
    out = emails.copy()
    s = pd.Series(emails, dtype=object)
    u = rng.random(n)
    title = u < style.email_title_case
    upper = (u >= style.email_title_case) & (u < style.email_title_case + style.email_upper)
    present = s.notna().to_numpy()
    title &= present
    upper &= present
    if title.any():
        parts = s[title].str.split("@", n=1, expand=True)
        out[title] = (
            parts[0].str.title().to_numpy(dtype=object)
            + "@"
            + parts[1].str.capitalize().to_numpy(dtype=object)
        )
    if upper.any():
        out[upper] = s[upper].str.upper().to_numpy(dtype=object)
    ws = (rng.random(n) < style.email_whitespace) & present
    if ws.any():
        pads = obj([" ", "  ", "\t"])[rng.integers(0, 3, size=int(ws.sum()))]
        lead = rng.random(int(ws.sum())) < 0.5
        out[ws] = np.where(lead, pads + out[ws], out[ws] + pads)
    return out


def project(
    persons: pd.DataFrame,
    companies: pd.DataFrame,
    voc: Vocab,
    sel: np.ndarray,
    rng: np.random.Generator,
    style: Style,
    hidden: np.ndarray | None = None,
) -> pd.DataFrame:
    """The person attributes as one system holds them, for persons `sel` (indices; repeats allowed).

    `hidden` marks records that must share no identifier with the person's other records: an unrelated email,
    no phone, but the same name, address and birth date.
    """
    n = len(sel)
    p = persons.iloc[sel]
    hidden = np.zeros(n, dtype=bool) if hidden is None else np.asarray(hidden, dtype=bool)
    first_idx = p["first_idx"].to_numpy()
    last_idx = p["last_idx"].to_numpy()
    # names: nickname, one-character typos, lower case
    first = voc.first[first_idx].copy()
    u = rng.random(n)
    nick = u < style.nickname
    first[nick] = voc.first_nick[first_idx[nick]]
    typo_f = (u >= style.nickname) & (u < style.nickname + style.first_typo)
    first[typo_f] = voc.first_typo[first_idx[typo_f], rng.integers(0, 3, size=int(typo_f.sum()))]
    last = voc.last[last_idx].copy()
    typo_l = rng.random(n) < style.last_typo
    last[typo_l] = voc.last_typo[last_idx[typo_l], rng.integers(0, 3, size=int(typo_l.sum()))]
    lower = rng.random(n) < style.lower_names
    if lower.any():
        first[lower] = pd.Series(first[lower], dtype=object).str.lower().to_numpy(dtype=object)
        last[lower] = pd.Series(last[lower], dtype=object).str.lower().to_numpy(dtype=object)
    # email: the primary address, sometimes the other one (work vs personal, old job)
    work = p["email_work"].to_numpy(dtype=object)
    personal = p["email_personal"].to_numpy(dtype=object)
    old = p["email_old"].to_numpy(dtype=object)
    primary_is_work = p["primary_is_work"].to_numpy()
    primary = np.where(primary_is_work, work, personal)
    secondary = np.where(primary_is_work, personal, work)
    has_old = pd.notna(old)
    use_other = rng.random(n) < style.email_other
    use_old = use_other & has_old & (rng.random(n) < 0.5)
    email = np.where(use_other, secondary, primary)
    email = np.where(use_old, old, email)
    email = np.where(hidden, p["email_hidden"].to_numpy(dtype=object), email)
    email = vary_email_case(email, rng, style)
    missing_email = (rng.random(n) < style.missing_email) & ~hidden
    email[missing_email] = None
    # phones: a record on another email keeps its phone so something still links it
    country_idx = p["country_idx"].to_numpy()
    fmt = obj(PHONE_FORMATS)[rng.choice(len(PHONE_FORMATS), size=n, p=_norm(style.phone_formats))]
    phone = format_phone(p["phone_nsn"].to_numpy(dtype=object), country_idx, fmt, voc)
    mobile = format_phone(p["mobile_nsn"].to_numpy(dtype=object), country_idx, fmt, voc)
    no_phone = (rng.random(n) < style.missing_phone) & ~use_other | hidden
    phone[no_phone] = None
    no_mobile = (rng.random(n) < style.missing_mobile) | hidden
    mobile[no_mobile] = None
    # address
    no_addr = (rng.random(n) < style.missing_address) & ~hidden
    street = p["street"].to_numpy(dtype=object).copy()
    abbrev = rng.random(n) < 0.3
    for full, short in vocab.STREET_TYPES:
        street[abbrev] = (
            pd.Series(street[abbrev], dtype=object)
            .str.replace(" " + full, " " + short, regex=False)
            .to_numpy(dtype=object)
        )
    cstyle = obj(COUNTRY_STYLES)[rng.choice(len(COUNTRY_STYLES), size=n, p=_norm(style.country_styles))]
    country = country_display(country_idx, cstyle, voc)
    city = p["city"].to_numpy(dtype=object).copy()
    state = p["state"].to_numpy(dtype=object).copy()
    postal = p["postal_code"].to_numpy(dtype=object).copy()
    for arr in (street, city, state, postal):
        arr[no_addr] = None
    # company and title
    comp = p["company_idx"].to_numpy()
    base = companies["company"].to_numpy(dtype=object)[comp]
    suffix_mode = rng.choice(4, size=n, p=_norm(style.company_suffix))
    own = companies["suffix"].to_numpy(dtype=object)[comp]
    alt = companies["alt_suffix"].to_numpy(dtype=object)[comp]
    company = np.where(
        suffix_mode == 0,
        base + " " + own,
        np.where(suffix_mode == 1, base + " " + alt, np.where(suffix_mode == 2, base, base + ", " + own)),
    )
    # an old-job email usually comes with the old company
    old_comp = p["old_company_idx"].to_numpy()
    with_old = use_old & (old_comp >= 0)
    company[with_old] = (
        companies["company"].to_numpy(dtype=object)[old_comp[with_old]]
        + " "
        + companies["suffix"].to_numpy(dtype=object)[old_comp[with_old]]
    )
    company[rng.random(n) < style.missing_company] = None
    title_idx = p["title_idx"].to_numpy()
    titles = obj(t[0] for t in vocab.TITLES)
    alt_titles = obj(t[3] for t in vocab.TITLES)
    title = np.where(rng.random(n) < style.title_alt, alt_titles[title_idx], titles[title_idx])
    title[rng.random(n) < style.missing_title] = None
    return pd.DataFrame(
        {
            "person_idx": p["person_idx"].to_numpy(),
            "first_name": first,
            "last_name": last,
            "email": email,
            "phone": phone,
            "mobile": mobile,
            "street": street,
            "city": city,
            "state": state,
            "postal_code": postal,
            "country": country,
            "company": company,
            "title": title,
            "hidden": hidden,
            "used_other_email": use_other & ~hidden,
        }
    )


def _norm(weights: list[float]) -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    return w / w.sum()
