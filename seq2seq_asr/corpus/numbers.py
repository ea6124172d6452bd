"""Which numbers the corpus says: 1..999999 with extra weight on the hard cases."""
import numpy as np

# (share, what) - the shares add up to 1
MIX = [
    (0.40, "uniform"),  # 1..999999
    (0.15, "below_1000"),  # 1..999
    (0.10, "one_thousand"),  # 1000..1999, said "тысяча ..."
    (0.10, "teens"),  # a teen (10..19) in the thousands, the units or both
    (0.10, "round"),  # round hundreds and thousands: 300, 7000, 40000, 125000, 600100
    (0.10, "agreement"),  # одна/две тысячи: thousands ending in 1 or 2 (21000, 342xxx)
    (0.05, "below_100"),  # 1..99
]


def draw_number(rng: np.random.Generator) -> int:
    kind = MIX[rng.choice(len(MIX), p=[share for share, _ in MIX])][1]
    if kind == "uniform":
        return int(rng.integers(1, 1_000_000))
    if kind == "below_1000":
        return int(rng.integers(1, 1000))
    if kind == "one_thousand":
        return int(rng.integers(1000, 2000))
    if kind == "teens":
        high = int(rng.integers(0, 10)) * 100 + int(rng.integers(10, 20))
        low = int(rng.integers(0, 10)) * 100 + int(rng.integers(10, 20))
        return [high * 1000 + low, high * 1000, low, high * 1000 + int(rng.integers(0, 1000))][
            int(rng.integers(0, 4))] or low
    if kind == "round":
        unit = int(rng.choice([100, 1000, 10_000, 100_000]))
        n = int(rng.integers(1, 10)) * unit
        return n + (int(rng.integers(1, 10)) * 100 if unit > 1000 and rng.random() < 0.3 else 0)
    if kind == "agreement":
        high = int(rng.integers(0, 100)) * 10 + int(rng.choice([1, 2, 3, 4]))
        if high % 100 in (11, 12, 13, 14):
            high += 10
        return high * 1000 + int(rng.integers(0, 1000))
    return int(rng.integers(1, 100))
