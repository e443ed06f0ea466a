#!/usr/bin/env python3
"""Generates a benchmark dataset: about 55% compressible text, 30% incompressible bytes, 15% duplicated files.
With --small-files, the shape of a source tree and a mail spool beside the large files: about half of the files
under 100 KiB (1 GiB gives 2,772 files, 1,987 of them under 100 KiB), the rest as above.
Usage: gen-dataset.py DIR [TOTAL_MIB] [--small-files]   (deterministic: the same seed gives the same files)"""
import os, random, sys

small_files = '--small-files' in sys.argv
args = [a for a in sys.argv[1:] if a != '--small-files']
root, total_mib = args[0], int(args[1]) if len(args) > 1 else 1024
rng = random.Random(20261123)
words = [''.join(rng.choice('abcdefghijklmnopqrstuvwxyz') for _ in range(rng.randint(2, 10))) for _ in range(5000)]
total = total_mib * 1024 * 1024
plan = [('text', 0.55), ('random', 0.30), ('dup', 0.15)]
sizes = {k: (256 * 1024, 12 * 1024 * 1024) for k in ('text', 'random', 'dup')}
if small_files:
    # tree: 1-100 KiB sources; spool: 100 KiB-1 MiB messages; then large text, random and duplicates.
    plan = [('tree', 0.08), ('spool', 0.30), ('text', 0.20), ('random', 0.27), ('dup', 0.15)]
    sizes.update(tree=(1024, 100 * 1024), spool=(100 * 1024, 1024 * 1024))
written = {}
os.makedirs(root, exist_ok=True)
n = 0
for kind, share in plan:
    budget = int(total * share)
    done = 0
    while done < budget:
        low, high = sizes[kind]
        size = min(rng.randint(low, high), budget - done)
        sub = os.path.join(root, kind, f"d{n % 7}", f"e{n % 53}") if kind == 'tree' else os.path.join(root, kind, f"d{n % 7}")
        os.makedirs(sub, exist_ok=True)
        path = os.path.join(sub, f"f{n:04d}.{ 'bin' if kind in ('random', 'dup') else 'txt'}")
        if kind in ('text', 'tree', 'spool'):
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
