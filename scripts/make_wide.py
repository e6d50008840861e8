"""Writes the wide benchmark of issue 16 as .npy: n rows of D standard-normal float32 features
and a last column `label`, 1 where x0 + x1 - x2 + sin(2 x3) + x4^2 is above its median, else 0;
only x0..x4 are relevant. Column names go to FILE.names (x0..x{D-1}, label).

usage: make_wide.py OUT.npy N D [SEED]
"""

import sys

import numpy as np


def main() -> None:
    out, n, d = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    seed = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    rng = np.random.default_rng(seed)
    # One float32 matrix, filled in place: the features, then the label column.
    m = np.empty((n, d + 1), dtype=np.float32)
    for start in range(0, d, 1000):
        stop = min(start + 1000, d)
        m[:, start:stop] = rng.standard_normal((n, stop - start), dtype=np.float32)
    x = m[:, :5].astype(np.float64)
    f = x[:, 0] + x[:, 1] - x[:, 2] + np.sin(2 * x[:, 3]) + x[:, 4] ** 2
    m[:, d] = (f > np.median(f)).astype(np.float32)
    np.save(out, m)
    with open(out + ".names", "w") as names:
        names.write("".join(f"x{j}\n" for j in range(d)) + "label\n")


if __name__ == "__main__":
    main()
