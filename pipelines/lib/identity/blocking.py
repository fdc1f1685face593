"""Blocking keys that survive typos, computed in DuckDB SQL (no Python per row, no extra library).

- `soundex_sql(expr)`: American Soundex (first letter + three digits: 'robert' and 'rupert' -> 'R163',
  'ashcraft' -> 'A261'). A typo that keeps the first letter and the sound of the consonants keeps the key, so
  `smith` / `smyth` / `smiht`... block together where an exact name does not.
- `name_prefix_sql(expr, n)`: the first n letters (`substr`), for keys such as "surname starts with the same
  three letters and the birth date is the same".

They are derived once per record in `resolve._prepare_records` (columns `first_name_soundex`,
`last_name_soundex`, `name_soundex_pair`, `first_name_prefix3`, `last_name_prefix3`, `postal_code_prefix3`), so Splink blocking rules and comparisons can name
them like any other column; `name_pair_sql` makes `name_soundex_pair` (the two Soundex codes in either order).
"""

from __future__ import annotations

# letter -> Soundex digit; '#' marks h and w, which are dropped without separating equal digits (Ashcraft: s and
# c, with an h between them, are coded once), while vowels (0) separate them (Tymczak: c and z coded once, then a,
# then k again).
_CODES = {
    **dict.fromkeys("aeiouy", "0"),
    **dict.fromkeys("bfpv", "1"),
    **dict.fromkeys("cgjkqsxz", "2"),
    **dict.fromkeys("dt", "3"),
    "l": "4",
    **dict.fromkeys("mn", "5"),
    "r": "6",
    **dict.fromkeys("hw", "#"),
}
_FROM = "abcdefghijklmnopqrstuvwxyz"
_TO = "".join(_CODES[c] for c in _FROM)


def _letters(expr: str) -> str:
    return f"regexp_replace(lower(strip_accents(coalesce({expr}, ''))), '[^a-z]', '', 'g')"


def soundex_sql(expr: str) -> str:
    """SQL for the American Soundex code of `expr` (NULL when it has no letter a-z)."""
    s = _letters(expr)
    codes = f"replace(translate({s}, '{_FROM}', '{_TO}'), '#', '')"
    for digit in "0123456":  # runs of one digit count once
        codes = f"regexp_replace({codes}, '{digit}+', '{digit}', 'g')"
    # the first letter is written as itself: drop its digit (h and w have none left to drop)
    tail = f"CASE WHEN left({s}, 1) IN ('h', 'w') THEN {codes} ELSE substr({codes}, 2) END"
    return f"CASE WHEN {s} = '' THEN NULL ELSE left(upper(left({s}, 1)) || replace({tail}, '0', '') || '000', 4) END"


def name_prefix_sql(expr: str, n: int) -> str:
    """SQL for the first `n` letters of `expr` (NULL when it has fewer than `n`)."""
    s = _letters(expr)
    return f"CASE WHEN length({s}) >= {int(n)} THEN left({s}, {int(n)}) END"


def name_pair_sql(first: str, last: str) -> str:
    """SQL for an order-free key of two name codes ('K365|H652' for either order): blocks a pair whose first name
    and surname were swapped between the two records (NULL unless both are known)."""
    return (
        f"CASE WHEN ({first}) IS NOT NULL AND ({last}) IS NOT NULL "
        f"THEN least({first}, {last}) || '|' || greatest({first}, {last}) END"
    )


def street_head_sql(expr: str, n: int = 2) -> str:
    """SQL for the first `n` words of a street line ('45 richardson circuit caravan park' -> '45 richardson': the
    house number and the street's first word). A typo further on, a second line missing on one record or added on
    the other, keep the key (NULL when the line has fewer than `n` words)."""
    words = f"regexp_split_to_array(trim(lower(coalesce({expr}, ''))), '\\s+')"
    return f"CASE WHEN len(list_filter({words}, lambda w: w <> '')) >= {int(n)} THEN array_to_string({words}[1:{int(n)}], ' ') END"
