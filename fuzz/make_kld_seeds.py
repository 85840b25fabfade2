#!/usr/bin/env python3
# Writes the seeds of fuzz_kld_base (fuzz/corpus/fuzz_kld_base/): small valid
# KLD base files in the layout of src/eval/kld_base.h (header, tokens, rows of
# a 16-byte row header and n_vocab uint16). Standard library only.
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "fuzz_kld_base")


def kld_base(n_vocab, n_ctx, n_chunks, vocab_hash=0x0123456789ABCDEF):
    n_scored = n_ctx - 1 - n_ctx // 2
    out = b"HY2BKLDB" + struct.pack("<IIIIQ", 1, n_vocab, n_ctx, n_chunks, vocab_hash)
    out += struct.pack(f"<{n_chunks * n_ctx}i", *[(7 * i + 3) % n_vocab for i in range(n_chunks * n_ctx)])
    for r in range(n_chunks * n_scored):
        # scale (<= 16/65535), min_log_prob <= 0, target_log_prob <= 0, top token < n_vocab
        out += struct.pack("<fffI", 16.0 / 65535, -16.0 - r, -0.5 * (r + 1), r % n_vocab)
        out += struct.pack(f"<{n_vocab}H", *[(r * 31 + i * 977) % 65536 for i in range(n_vocab)])
    return out


SEEDS = {"ctx4_vocab8": kld_base(8, 4, 2), "ctx8_vocab32": kld_base(32, 8, 3), "ctx16_vocab256": kld_base(256, 16, 2)}
os.makedirs(OUT, exist_ok=True)
for name, body in SEEDS.items():
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(body)
