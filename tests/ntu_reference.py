"""An independent reader of NTU ``.skeleton`` text, to check the project's parser against (used by
tests/data/test_ntu_raw.py on generated files and tests/real_data/test_ntu_files.py on real ones)."""

from __future__ import annotations

import numpy as np


def reference_parse(text: str) -> dict[str, tuple[list[int], np.ndarray, np.ndarray]]:
    """Line-by-line reading, the obvious way: body id -> (frames, (F, 25, 12) values, (F, 9) info)."""
    lines = text.splitlines()
    cursor, bodies = 1, {}
    for frame in range(int(lines[0])):
        count = int(lines[cursor])
        cursor += 1
        for _ in range(count):
            info = lines[cursor].split()
            rows = [[float(v) for v in lines[cursor + 2 + j].split()] for j in range(int(lines[cursor + 1]))]
            cursor += 2 + len(rows)
            entry = bodies.setdefault(info[0], ([], [], []))
            entry[0].append(frame)
            entry[1].append(rows)
            entry[2].append([float(v) for v in info[1:]])
    return {k: (f, np.array(v), np.array(i)) for k, (f, v, i) in bodies.items()}
