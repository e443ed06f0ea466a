#!/usr/bin/env python3
"""Re-verifies a `vault audit export` with Python's standard library alone (docs/audit.md).

Checks, from the exported bytes and docs/log-format.md and docs/checkpoints.md only:
  - every record's hash: SHA-256 over prev_hash[32] | u64 position | u32 len, stream_id | u64 stream_version |
    u32 len, event_type | i64 recorded_at_us | u32 len, metadata | u32 len, payload (big-endian, UTF-8);
  - the chain: each record's previous hash is the hash before it, positions without gaps;
  - the genesis: record 1's hash is the genesisHash of the header (and of vault.json);
  - every checkpoint record (Checkpoint.v1): the head it names is the hash at its position, and its Merkle root is
    the RFC 9162 root over records 1..position (export from position 1);
  - the end line: head and Merkle root over the whole export.
Checkpoint signatures are Ed25519, which the standard library lacks: docs/audit.md checks them with openssl.
Exit 0 when everything holds, 1 with the first failure named. Usage: audit-verify.py [FILE]  (default: stdin)
"""
import base64, collections, hashlib, json, struct, sys

WINDOW = 4096  # a checkpoint names a record at most this far before it (the vault's name the one just before)


def chain_hash(prev, r):
    text = lambda s: struct.pack(">I", len(s.encode())) + s.encode()
    blob = lambda b: struct.pack(">I", len(b)) + b
    data = (prev + struct.pack(">Q", r["position"]) + text(r["streamId"]) + struct.pack(">Q", r["streamVersion"])
            + text(r["eventType"]) + struct.pack(">q", r["recordedAtUs"])
            + blob(base64.b64decode(r["metadata"])) + blob(base64.b64decode(r["payload"])))
    return hashlib.sha256(data).digest()


class Tree:
    """RFC 9162 Merkle tree kept as a compact range (one root per full subtree)."""
    def __init__(self):
        self.size, self.peaks = 0, []

    def append(self, record_hash):
        node, size = hashlib.sha256(b"\x00" + record_hash).digest(), self.size
        while size & 1:
            node = hashlib.sha256(b"\x01" + self.peaks.pop() + node).digest()
            size >>= 1
        self.peaks.append(node)
        self.size += 1

    def root(self):
        if not self.peaks:
            return hashlib.sha256(b"").digest()
        root = self.peaks[-1]
        for peak in reversed(self.peaks[:-1]):
            root = hashlib.sha256(b"\x01" + peak + root).digest()
        return root


def fail(message):
    print("FAILED: " + message)
    sys.exit(1)


def main():
    source = open(sys.argv[1], "rb") if len(sys.argv) > 1 else sys.stdin.buffer
    lines = iter(source)
    header = json.loads(next(lines))
    if header.get("format") != "vault-audit-export/v1":
        fail("not a vault-audit-export/v1 file")
    first = header["from"]
    tree = Tree() if first == 1 else None
    hashes, roots = collections.OrderedDict(), collections.OrderedDict()  # the last WINDOW positions only
    prev, expected, checkpoints = None, first, 0
    end = None
    for raw in lines:
        line = json.loads(raw)
        if "end" in line:
            end = line
            break
        r = line
        if r["position"] != expected:
            fail(f"record {expected} is missing (the next line is record {r['position']})")
        stored_prev, stored = bytes.fromhex(r["previousHash"]), bytes.fromhex(r["hash"])
        if prev is not None and stored_prev != prev:
            fail(f"record {r['position']} does not follow record {r['position'] - 1}")
        if r["position"] == 1 and stored_prev != bytes(32):
            fail("record 1's previous hash is not 32 zero bytes")
        if chain_hash(stored_prev, r) != stored:
            fail(f"record {r['position']} does not match its hash: a field was altered")
        if r["position"] == 1 and stored.hex() != header["genesisHash"]:
            fail(f"record 1 has hash {stored.hex()}, the header's genesis is {header['genesisHash']}")
        if r["eventType"] == "Checkpoint.v1":
            c = json.loads(base64.b64decode(r["payload"]))
            if c["position"] >= r["position"]:
                fail(f"the checkpoint at {r['position']} claims position {c['position']}, which it cannot cover")
            if c["position"] in hashes and hashes[c["position"]] != c["head"]:
                fail(f"the checkpoint at {r['position']} names head {c['head']} for record {c['position']}, which has {hashes[c['position']]}")
            if c["position"] in roots and roots[c["position"]] != c["merkleRoot"]:
                fail(f"the checkpoint at {r['position']} names Merkle root {c['merkleRoot']} over 1..{c['position']}, the records give {roots[c['position']]}")
            checkpoints += 1
        hashes[r["position"]] = stored.hex()
        if tree is not None:
            tree.append(stored)
            roots[tree.size] = tree.root().hex()
        while len(hashes) > WINDOW:
            hashes.popitem(last=False)
        while len(roots) > WINDOW:
            roots.popitem(last=False)
        prev, expected = stored, expected + 1
    if end is None:
        fail("the export has no end line: it was cut short")
    if end["records"] != expected - first or end["headHash"] != (prev.hex() if prev else ""):
        fail("the end line does not match the records before it")
    if tree is not None and end.get("merkleRoot") != tree.root().hex():
        fail(f"the Merkle root over the export is {tree.root().hex()}, the end line says {end.get('merkleRoot')}")
    print(f"intact: records {first} to {expected - 1} ({expected - first}), chain and hashes hold, "
          f"{checkpoints} checkpoints agree" + (f", Merkle root {tree.root().hex()}" if tree else ""))


if __name__ == "__main__":
    main()
