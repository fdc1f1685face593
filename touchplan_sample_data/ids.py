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
    check = np.stack([(is_upper[:, k * 5 : (k + 1) * 5] * weights).sum(axis=1) for k in range(3)], axis=1)
    full = np.concatenate([body, SF_CHECKSUM[check]], axis=1)
    return chars_to_str(full)


def hex_strings(rng: np.random.Generator, n: int, width: int) -> np.ndarray:
    return chars_to_str(HEX[rng.integers(0, 16, size=(n, width))])


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


# strftime directives built from the ISO text "YYYY-MM-DDTHH:MM:SS" (byte offsets), plus %I and %p
_ISO_PARTS = {"Y": (0, 4), "m": (5, 7), "d": (8, 10), "H": (11, 13), "M": (14, 16), "S": (17, 19)}


def strftime(values, fmt: str, missing: str | None = None) -> np.ndarray:
    """`strftime(fmt)` for many naive datetimes at once, as an object array (NaT -> `missing`).

    Same text as pandas' `.dt.strftime` (C locale) for the directives %Y %m %d %H %M %S %I %p and literal ASCII,
    but built on uint8 character matrices instead of formatting every value in Python.
    """
    arr = np.asarray(pd.Series(values).to_numpy(dtype="datetime64[ns]"), dtype="datetime64[s]")
    n = len(arr)
    nat = np.isnat(arr)
    safe = np.where(nat, np.datetime64(0, "s"), arr)
    iso = np.datetime_as_string(safe, unit="s").astype("S19").view(np.uint8).reshape(n, 19)
    hour = (safe.astype(np.int64) // 3600) % 24
    cols: list[np.ndarray] = []
    k = 0
    while k < len(fmt):
        ch = fmt[k]
        if ch == "%" and k + 1 < len(fmt):
            code = fmt[k + 1]
            k += 2
            if code in _ISO_PARTS:
                lo, hi = _ISO_PARTS[code]
                cols.append(iso[:, lo:hi])
            elif code == "I":
                h12 = np.where(hour % 12 == 0, 12, hour % 12)
                cols.append(np.stack([48 + h12 // 10, 48 + h12 % 10], axis=1).astype(np.uint8))
            elif code == "p":
                pm = (hour >= 12)[:, None]
                cols.append(
                    np.where(
                        pm, np.frombuffer(b"PM", np.uint8)[None, :], np.frombuffer(b"AM", np.uint8)[None, :]
                    )
                )
            else:
                raise ValueError(f"strftime: unsupported directive %{code} in {fmt!r}")
        else:
            cols.append(np.full((n, 1), ord(ch), dtype=np.uint8))
            k += 1
    out = np.empty(n, dtype=object)
    if n:
        out[:] = chars_to_str(np.concatenate(cols, axis=1) if cols else np.zeros((n, 0), np.uint8))
    out[nat] = missing
    return out


def fmt_datetime(values: pd.Series | np.ndarray, fmt: str) -> pd.Series:
    """Format datetimes (NaT -> empty string), vectorised."""
    return pd.Series(strftime(values, fmt, missing=""), dtype=object)


def fmt_salesforce_datetime(values) -> pd.Series:
    return pd.Series(strftime(values, "%Y-%m-%dT%H:%M:%S.000Z", missing=""), dtype=object)


def pick(rng: np.random.Generator, choices: list, n: int, p: list[float] | None = None) -> np.ndarray:
    """n draws from a small list, as a numpy array."""
    arr = np.empty(len(choices), dtype=object)
    arr[:] = choices
    if p is not None:
        p = np.asarray(p, dtype=float)
        p = p / p.sum()
    return arr[rng.choice(len(choices), size=n, p=p)]
