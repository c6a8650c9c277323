"""The vectorised decimal reader returns exactly ``float(token)`` (bit for bit) and each token's length."""

from __future__ import annotations

import numpy as np

from skeletonmae.data.decimal_tokens import padded_text, read_decimals


def _read(tokens: list[str], separator: str = " ") -> tuple[np.ndarray, np.ndarray] | None:
    text = (separator.join(tokens) + "\r\n").encode()
    starts = np.cumsum([0] + [len(token) + len(separator) for token in tokens[:-1]]).astype(np.int64)
    _, words = padded_text(text)
    return read_decimals(text, words, starts)


def _assert_exact(tokens: list[str]) -> None:
    read = _read(tokens)
    assert read is not None
    values, lengths = read
    expected = np.array([float(token) for token in tokens])
    mismatch = np.flatnonzero((values != expected) | (np.signbit(values) != np.signbit(expected)))
    assert mismatch.size == 0, [tokens[i] for i in mismatch[:5]]
    assert lengths.tolist() == [len(token) for token in tokens]


def test_kinect_style_numbers_are_exact():
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.uniform(-5, 5, 4000), rng.uniform(-1, 1, 2000) * 1e-3, rng.uniform(0, 2000, 2000)])
    _assert_exact([f"{value:.7g}" for value in values] + [f"{value:.5g}" for value in values])


def test_every_shape_of_plain_decimal_is_exact():
    rng = np.random.default_rng(1)
    tokens = []
    for _ in range(6000):
        digits = "".join(rng.choice(list("0123456789"), rng.integers(1, 14)))
        dot = int(rng.integers(0, len(digits) + 1))
        body = digits[:dot] + ("." if rng.random() < 0.8 else "") + digits[dot:]
        tokens.append(("-" if rng.random() < 0.5 else "") + body)
    tokens += ["0", "-0", "-0.0", "5.", ".5", "-.5", "12345678", "-1234567", "1234567.8", "999999999999999",
               "0.00000000000001", "-9.99999999999"]
    _assert_exact(tokens)


def test_other_numbers_go_through_float_with_their_real_length():
    _assert_exact(["2.673734e-05", "+3", "1E5", "-.5e-3", "0.1234567890123456789", "123456789", "-12345678.9",
                   "1" * 30, "1e-400"])


def test_a_value_at_the_very_end_of_the_text():
    text = b"1 2 -0.25"
    _, words = padded_text(text)
    values, lengths = read_decimals(text, words, np.array([0, 2, 4]))
    assert values.tolist() == [1.0, 2.0, -0.25] and lengths.tolist() == [1, 1, 5]


def test_non_numbers_are_refused():
    for bad in ["nan", "inf", "abc", "1_0", "0x1", "-", ".", "1.2.3", "--1", "1-2", "1e", ""]:
        assert _read(["1.5", bad, "2"]) is None, bad
