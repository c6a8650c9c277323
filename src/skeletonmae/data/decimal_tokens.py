"""Vectorised reading of plain decimal numbers out of ASCII text, eight bytes at a time.

A token is a run of bytes above ``0x20`` (space); any byte up to ``0x20`` ends it (space, ``\\r``,
``\\n``, the zero padding). Each token is read from the 16 bytes that start at it, held as two
little-endian ``uint64`` words and processed with "SIMD within a register" arithmetic: a fixed
number of numpy operations per batch of tokens, none per byte or per value.

Exactness: a token ``-?D[.D]`` (digits ``D``, at least one; at most 15 bytes; the dot among the first
8 bytes, or no dot and at most 8 bytes) is read as an integer ``N`` < 10**15 (exact in float64) and
its value is the single correctly rounded division ``N / 10**k``: the very float64 that ``float(token)``
(and so ``np.loadtxt``) returns. Any other token (an exponent, a ``+``, a long one) is read by ``float()``
alone after a strict decimal pattern check; a token that is not a decimal number (``nan``, ``0x1``,
``1_0``, ``abc``, empty) makes :func:`read_decimals` return ``None`` so that the caller can fall back
to a slower path that reports it. The text must be ASCII (bytes < 0x80).
"""

from __future__ import annotations

import re

import numpy as np

_WORD = np.dtype("<u8")  # little-endian on every platform: byte 0 of a window is bits 0-7
_PADDING = 24  # zero bytes after the text, so that the 16 bytes after any text byte can be read
_MAX_PLAIN_BYTES = 15

_ONE = np.uint64(1)
_SEVEN = np.uint64(7)
_ALL = np.uint64(0xFFFFFFFFFFFFFFFF)
_ONES = np.uint64(0x0101010101010101)
_HIGH = np.uint64(0x8080808080808080)
_LOW7 = np.uint64(0x7F7F7F7F7F7F7F7F)
_CHAR_ZERO = np.uint64(0x3030303030303030)  # "0" in every byte
_ABOVE_SPACE = np.uint64(0x5F5F5F5F5F5F5F5F)  # byte + 0x5F has its high bit set iff byte > 0x20
_ABOVE_NINE = np.uint64(0x7676767676767676)  # byte + 0x76 has its high bit set iff byte > 9
_DOT_DIGIT = np.uint64(0x1E)  # "." xor "0"
_DOTS = _DOT_DIGIT * _ONES
_POW10 = 10.0 ** np.arange(16)
_DECIMAL = re.compile(rb"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_TOKEN = re.compile(rb"[^\x00-\x20]*")


def padded_text(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """``data`` followed by zero bytes, as ``(bytes (n,) uint8, words (n / 8,) little-endian uint64)``:
    two views of one buffer (the words are what :func:`read_decimals` reads)."""
    buffer = data + bytes(_PADDING + (-len(data)) % 8)
    return np.frombuffer(buffer, np.uint8), np.frombuffer(buffer, _WORD)


def _windows_at(words: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The 16 bytes from every byte offset in ``starts`` ``(T,)``: two ``(T,)`` words (bytes 0-7, 8-15)."""
    index = starts >> 3
    shift = ((starts & 7) << 3).astype(np.uint64)
    back = np.uint64(63) - shift  # (w << 1) << (63 - s) == w << (64 - s), and 0 when s == 0
    middle = words[index + 1]
    low = words[index] >> shift
    low |= (middle << _ONE) << back
    high = words[index + 2] << _ONE
    high <<= back
    high |= middle >> shift
    return low, high


def _before_first(flags: np.ndarray) -> np.ndarray:
    """0xFF in every byte before the first byte whose high bit is set in ``flags`` (all bytes if none)."""
    lowest = flags & (~flags + _ONE)
    lowest >>= _SEVEN
    lowest -= _ONE
    return lowest


def _byte_count(mask: np.ndarray) -> np.ndarray:
    """Number of 0xFF bytes in every word of ``mask`` (a word of 0x00 / 0xFF bytes)."""
    return ((mask & _ONES) * _ONES) >> np.uint64(56)


def _zero_bytes(word: np.ndarray) -> np.ndarray:
    """High bit set exactly in the bytes of ``word`` that are zero."""
    return ~(((word & _LOW7) + _LOW7) | word) & _HIGH


def _eight_digits(word: np.ndarray) -> np.ndarray:
    """The number written by 8 digit values (bytes 0-9, byte 0 most significant), as uint64."""
    word = (word * np.uint64(10 * 256 + 1)) >> np.uint64(8)
    word = ((word & np.uint64(0x00FF00FF00FF00FF)) * np.uint64(100 * 65536 + 1)) >> np.uint64(16)
    return ((word & np.uint64(0x0000FFFF0000FFFF)) * np.uint64(10000 * 2**32 + 1)) >> np.uint64(32)


def _plain_values(low: np.ndarray, high: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Read windows that start at tokens: ``(values (T,) float64, lengths (T,) int64, plain (T,) bool)``.

    ``lengths`` counts the bytes before the first separator (16 if none is in the window); values are
    meaningless where ``plain`` is False."""
    low_mask = _before_first(~(low + _ABOVE_SPACE) & _HIGH)  # the token's bytes
    high_mask = _before_first(~(high + _ABOVE_SPACE) & _HIGH)
    high_mask &= np.uint64(0) - (low_mask == _ALL).astype(np.uint64)
    length = (_byte_count(low_mask) + _byte_count(high_mask)).astype(np.int64)
    negative = (low & np.uint64(0xFF)) == np.uint64(0x2D)
    low ^= _CHAR_ZERO  # digits become 0-9, the dot 0x1E
    low &= low_mask & ~(negative.astype(np.uint64) * np.uint64(0xFF))  # the minus sign becomes a 0 digit
    high ^= _CHAR_ZERO
    high &= high_mask
    dot = _zero_bytes(low ^ _DOTS)
    plain = ((((low + _ABOVE_NINE) & _HIGH) == dot) & (((high + _ABOVE_NINE) & _HIGH) == 0)
             & ((dot & (dot - _ONE)) == 0) & (length <= _MAX_PLAIN_BYTES))  # at most one dot, in bytes 0-7
    has_dot = dot != 0
    plain &= (length > negative.astype(np.int64) + has_dot) & (has_dot | (length <= 8))  # >= 1 digit
    low ^= (dot >> _SEVEN) * _DOT_DIGIT  # the dot becomes a 0 digit
    whole = _before_first(dot)  # bytes before the dot (all 8 if none)
    whole_digits = np.where(has_dot, _byte_count(whole).astype(np.int64), length)  # incl. a sign's 0
    # digits d_j (dot = 0): 10**8 A + B = sum d_j 10**(15-j); the whole part W = sum_{j<dot} d_j 10**(7-j)
    # is counted 10x too high there, so N = 10**8 A + B - 9 * 10**7 W = the digits without the dot, times
    # 10**(15 - digits), and the value is N / 10**(15 - whole digits).
    number = _eight_digits(low) * np.uint64(10**8) + _eight_digits(high)
    number -= _eight_digits(low & whole) * np.uint64(9 * 10**7)
    values = number.astype(np.float64)
    values /= _POW10[(15 - whole_digits).clip(0, 15)]
    np.negative(values, out=values, where=negative)
    return values, length, plain


def read_decimals(data: bytes, words: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Values ``(T,)`` float64 and byte lengths ``(T,)`` int64 of the tokens that start at the byte
    offsets ``starts`` ``(T,)`` of ``data`` (``words`` from :func:`padded_text`); ``None`` if one of
    them is not a decimal number."""
    low, high = _windows_at(words, starts)
    values, lengths, plain = _plain_values(low, high)
    for index in np.flatnonzero(~plain).tolist():
        token = _TOKEN.match(data, int(starts[index])).group()
        if not _DECIMAL.fullmatch(token):
            return None
        values[index], lengths[index] = float(token), len(token)
    return values, lengths
