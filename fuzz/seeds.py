#!/usr/bin/env python3
"""Cuts a classic pcap into seed inputs for fuzz-wire: a link byte, then packets behind a
2-byte big-endian length (the target's framing)."""
import struct, sys, os

src, out = sys.argv[1], sys.argv[2]
data = open(src, "rb").read()
magic = struct.unpack("<I", data[:4])[0]
endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
o, packets = 24, []
while o + 16 <= len(data):
    _, _, caplen, _ = struct.unpack(endian + "IIII", data[o:o + 16])
    packets.append(data[o + 16:o + 16 + caplen])
    o += 16 + caplen
for i in range(0, min(len(packets), 3000), 6):
    chunk = b"".join(struct.pack(">H", len(p)) + p for p in packets[i:i + 6])
    with open(os.path.join(out, "seed-%05d" % i), "wb") as f:
        f.write(b"\x00" + chunk)
print("fuzz: %d seeds from %s" % (len(os.listdir(out)), src))
