#!/usr/bin/env python3
"""Generates a benchmark dataset: about 55% compressible text, 30% incompressible bytes, 15% duplicated files.
Usage: gen-dataset.py DIR [TOTAL_MIB]   (deterministic: the same seed gives the same files)"""
import os, random, sys

root, total_mib = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1024
rng = random.Random(20261123)
words = [''.join(rng.choice('abcdefghijklmnopqrstuvwxyz') for _ in range(rng.randint(2, 10))) for _ in range(5000)]
total = total_mib * 1024 * 1024
plan = [('text', 0.55), ('random', 0.30), ('dup', 0.15)]
written = {}
os.makedirs(root, exist_ok=True)
n = 0
for kind, share in plan:
    budget = int(total * share)
    done = 0
    while done < budget:
        size = min(rng.randint(256 * 1024, 12 * 1024 * 1024), budget - done)
        sub = os.path.join(root, kind, f"d{n % 7}")
        os.makedirs(sub, exist_ok=True)
        path = os.path.join(sub, f"f{n:04d}.{ 'txt' if kind == 'text' else 'bin'}")
        if kind == 'text':
            out, length = [], 0
            while length < size:
                line = ' '.join(rng.choice(words) for _ in range(12)) + '\n'
                out.append(line); length += len(line)
            data = ''.join(out).encode()[:size]
        elif kind == 'random':
            data = rng.randbytes(size)
        else:
            source = rng.choice(list(written))
            data = open(source, 'rb').read()
            size = len(data)
        with open(path, 'wb') as f:
            f.write(data)
        if kind != 'dup':
            written[path] = size
        done += size
        n += 1
print(f"{n} files, {sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(root) for f in fs) / 2**20:.0f} MiB in {root}")
