"""Vectorised id and string helpers: Salesforce ids, hex strings, patterned codes, datetime formatting."""

from __future__ import annotations

import numpy as np
import pandas as pd

BASE62 = np.frombuffer(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", dtype=np.uint8)
HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
SF_CHECKSUM = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345", dtype=np.uint8)


def chars_to_str(mat: np.ndarray) -> np.ndarray:
    """An (n, w) uint8 matrix of ASCII codes -> array of n Python-compatible strings."""
    mat = np.ascontiguousarray(mat, dtype=np.uint8)
    n, w = mat.shape
    if n == 0:
        return np.array([], dtype=object)
    return mat.view(f"S{w}").ravel().astype(f"U{w}")


def base62_matrix(nums: np.ndarray, width: int) -> np.ndarray:
    nums = np.asarray(nums, dtype=np.int64)
    powers = 62 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    digits = (nums[:, None] // powers[None, :]) % 62
    return BASE62[digits]


def salesforce_ids(prefix: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """18-character Salesforce ids: key prefix, pod, reserved char, 9 base62 chars, 3-char case checksum.

    Unique within one call (a random strictly increasing counter), as Salesforce hands them out.
    """
    start = int(rng.integers(10**10, 10**12))
    counters = start + np.cumsum(rng.integers(1, 4000, size=n, dtype=np.int64))
    head = np.frombuffer((prefix + "8d0").encode(), dtype=np.uint8)  # e.g. 003 + pod "8d" + "0"
    body = np.empty((n, 15), dtype=np.uint8)
    body[:, :6] = head[None, :6]
    body[:, 6:] = base62_matrix(counters, 9)
    is_upper = (body >= ord("A")) & (body <= ord("Z"))
    weights = (1 << np.arange(5)).astype(np.int64)
    check = np.stack([(is_upper[:, k * 5:(k + 1) * 5] * weights).sum(axis=1) for k in range(3)], axis=1)
    full = np.concatenate([body, SF_CHECKSUM[check]], axis=1)
    return chars_to_str(full)


def hex_strings(rng: np.random.Generator, n: int, width: int) -> np.ndarray:
    return chars_to_str(HEX[rng.integers(0, 16, size=(n, width))])


def base62_strings(rng: np.random.Generator, n: int, width: int) -> np.ndarray:
    return chars_to_str(BASE62[rng.integers(0, 62, size=(n, width))])


def fill_patterns(patterns: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Replace '#' with a digit and 'A' with an upper-case letter in each pattern (postal codes)."""
    patterns = np.asarray(patterns, dtype=object)
    out = np.empty(len(patterns), dtype=object)
    for pattern in pd.unique(patterns):
        mask = patterns == pattern
        n = int(mask.sum())
        template = np.frombuffer(pattern.encode(), dtype=np.uint8)
        mat = np.repeat(template[None, :], n, axis=0)
        digits = rng.integers(ord("0"), ord("9") + 1, size=mat.shape, dtype=np.uint8)
        letters = rng.integers(ord("A"), ord("Z") + 1, size=mat.shape, dtype=np.uint8)
        mat = np.where(template == ord("#"), digits, mat)
        mat = np.where(template == ord("A"), letters, mat)
        out[mask] = chars_to_str(mat)
    return out


def fmt_datetime(values: pd.Series | np.ndarray, fmt: str) -> pd.Series:
    """Format datetimes (NaT -> empty string) with strftime, vectorised by pandas."""
    series = pd.Series(pd.to_datetime(values))
    return series.dt.strftime(fmt).fillna("")


def fmt_salesforce_datetime(values) -> pd.Series:
    series = pd.Series(pd.to_datetime(values))
    return (series.dt.strftime("%Y-%m-%dT%H:%M:%S.") + "000Z").fillna("")


def pick(rng: np.random.Generator, choices: list, n: int, p: list[float] | None = None) -> np.ndarray:
    """n draws from a small list, as a numpy array."""
    arr = np.empty(len(choices), dtype=object)
    arr[:] = choices
    if p is not None:
        p = np.asarray(p, dtype=float)
        p = p / p.sum()
    return arr[rng.choice(len(choices), size=n, p=p)]


def blank_where(values: pd.Series, mask: np.ndarray) -> pd.Series:
    """Empty string where mask is true (a field left empty in that record)."""
    values = pd.Series(values).astype("object").fillna("")
    values[np.asarray(mask, dtype=bool)] = ""
    return values
