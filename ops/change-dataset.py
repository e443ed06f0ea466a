#!/usr/bin/env python3
"""Changes about 5% of a dataset's files: rewrites a 64 KiB region in the middle of every twentieth file.
Usage: change-dataset.py DIR"""
import os, random, sys

rng = random.Random(7)
files = sorted(os.path.join(d, f) for d, _, fs in os.walk(sys.argv[1]) for f in fs)
changed = files[::20]
for path in changed:
    size = os.path.getsize(path)
    with open(path, 'r+b') as f:
        f.seek(size // 2)
        f.write(rng.randbytes(min(65536, max(1, size - size // 2))))
print(f"changed {len(changed)} of {len(files)} files")
