#!/usr/bin/env python3
"""vectors_check.py - check the MIKEY-TICKET test vectors of doc/vectors/
without any code of mikeykms.

    python3 tests/vectors_check.py doc/vectors/*.json

Everything here is written from RFC 3830 / RFC 6043 (and the readings that
doc/vectors/README.md states) with Python's hashlib and hmac; AES comes
from the `openssl enc` command (AES-CTR with the 16-byte AES-CM IV of RFC
3830 §4.2.3, whose low 16 bits are the block counter). For every file it
re-derives each key from the PSKs and the ticket key given, verifies every
V, the ticket MAC, Vi and Vr, decrypts every KEMAC, re-derives MPKi / MPKr,
the forked keys and the SRTP master keys, and compares all of it with the
file: the messages must verify with the keys given, and the keys given
must be the ones the messages carry. Exit status 0 when all hold.
"""
import hashlib
import hmac
import json
import struct
import subprocess
import sys

# ---------------------------------------------------------------- crypto

PRF_MIKEY_1, PRF_HMAC_SHA256 = 0, 1


def _p(s, label, m, h):
    """RFC 3830 §4.1.2: P(s, label, m)."""
    out, a = b"", label
    for _ in range(m):
        a = hmac.new(s, a, h).digest()
        out += hmac.new(s, a + label, h).digest()
    return out


def prf(func, inkey, label, outlen):
    """RFC 3830 §4.1.2 (MIKEY-1) and RFC 6043 §6.1 (PRF-HMAC-SHA-256):
    inkey in 256-bit pieces, the last possibly shorter, outputs XORed."""
    h, hl = {PRF_MIKEY_1: (hashlib.sha1, 20),
             PRF_HMAC_SHA256: (hashlib.sha256, 32)}[func]
    m = -(-outlen // hl)
    acc = bytearray(m * hl)
    for i in range(0, len(inkey), 32):
        for j, x in enumerate(_p(inkey[i:i + 32], label, m, h)):
            acc[j] ^= x
    return bytes(acc[:outlen])


def aes_cm(key, iv, data):
    """AES-CM (RFC 3830 §4.2.3) = AES-CTR from the 16-byte IV, by openssl."""
    if not data:
        return b""
    mode = {16: "aes-128-ctr", 32: "aes-256-ctr"}[len(key)]
    r = subprocess.run(["openssl", "enc", "-" + mode, "-K", key.hex(),
                        "-iv", iv.hex(), "-nosalt"],
                       input=data, capture_output=True, check=True)
    return r.stdout


def mac(alg, key, data):
    """HMAC-SHA-1-160 (1) / HMAC-SHA-256-256 (2) of RFC 3830 §6.2, 6043."""
    return hmac.new(key, data, {1: hashlib.sha1, 2: hashlib.sha256}[alg]
                    ).digest()


# RFC 3830 §4.1.3 / §4.1.4 and RFC 6043 §5.1.1, App. A.2 constants
C_TEK, C_SALT_TGK = 0x2AD01C64, 0x39A2C14B
C_ENCR, C_AUTH, C_SALT = 0x150533E1, 0x2D22AC75, 0x29B88916
C_FORK_MPKR, C_FORK_TGK = 0x2B288856, 0x1512B54A
C_MPKI, C_MPKR = 0x220E99A2, 0x1F4D675B


def lv(b):
    return bytes([len(b)]) + b


def label_msg(c, csb, kind, ri=b"", rr=b""):
    """RFC 6043 §5.1.2: kind 1 initial, 2 response; absent RAND = len 0."""
    return struct.pack(">IBIB", c, 0xFF, csb, kind) + lv(ri) + lv(rr)


def label_fixed(c, code, rand=None):
    """RFC 6043 §6.10 (code 4) and App. A.2 (codes 5, 6)."""
    return (struct.pack(">IBIB", c, 0xFF, 0xFFFFFFFF, code)
            + (b"" if rand is None else lv(rand)))


def label_fork(c, id_data, randrkms):
    """RFC 6043 §5.1.1."""
    return (struct.pack(">IBIBH", c, 0xFF, 0xFFFFFFFF, 0, len(id_data))
            + id_data + lv(randrkms))


def label_tek(c, cs_id, ri, rr):
    """RFC 6043 §5.1.3."""
    return struct.pack(">IBIB", c, cs_id, 0xFFFFFFFF, 3) + lv(ri) + lv(rr)


SUITES = {  # RFC 6043 §12.1: PRF, encr key, auth alg, auth key, MAC
    128: dict(prf=PRF_MIKEY_1, ek=16, mac=1, ak=20, ml=20, encr=1),
    256: dict(prf=PRF_HMAC_SHA256, ek=32, mac=2, ak=32, ml=32, encr=3),
}


def msg_keys(func, inkey, lab_args, s):
    """encr_key, salt_key, auth_key of RFC 6043 §5.1.2."""
    return (prf(func, inkey, label_msg(C_ENCR, *lab_args), s["ek"]),
            prf(func, inkey, label_msg(C_SALT, *lab_args), 14),
            prf(func, inkey, label_msg(C_AUTH, *lab_args), s["ak"]))


def iv_of(salt, csb, t64):
    """RFC 3830 §4.2.3: (salt XOR (0x0000 || CSB ID || T)) || 0x0000."""
    x = b"\0\0" + struct.pack(">IQ", csb, t64)
    return bytes(a ^ b for a, b in zip(salt, x)) + b"\0\0"


# ---------------------------------------------------------------- parsing

class Bad(Exception):
    pass


def need(b, off, n):
    if off + n > len(b):
        raise Bad("truncated at offset %d" % off)
    return b[off:off + n]


def u8(b, o):
    return need(b, o, 1)[0]


def u16(b, o):
    return struct.unpack(">H", need(b, o, 2))[0]


def payload(b, o, t):
    """One payload of type t at offset o: a dict with start, end, next and
    the fields these checks read."""
    p = {"type": t, "start": o}
    if t == 20:  # Key data (RFC 3830 §6.13, RFC 6043 §6.2.1)
        p["next"], tk = u8(b, o), u8(b, o + 1)
        p["key_type"], kv = tk >> 4, tk & 15
        n = u16(b, o + 2)
        p["key"], o = need(b, o + 4, n), o + 4 + n
        p["salt"] = None
        if p["key_type"] in (1, 3, 5):
            n = u16(b, o)
            p["salt"], o = need(b, o + 2, n), o + 2 + n
        p["spi"] = None
        if kv == 1:
            n = u8(b, o)
            p["spi"], o = need(b, o + 1, n), o + 1 + n
        elif kv != 0:
            raise Bad("KV %d" % kv)
        p["end"] = o
        return p
    p["next"] = u8(b, o)
    if t == 1:  # KEMAC
        p["encr_alg"], n = u8(b, o + 1), u16(b, o + 2)
        p["encr_data"] = need(b, o + 4, n)
        p["mac_alg"] = u8(b, o + 4 + n)
        ml = {0: 0, 1: 20, 2: 32}[p["mac_alg"]]
        p["end"] = o + 5 + n + ml
    elif t == 5:  # T
        p["ts_type"] = u8(b, o + 1)
        n = {0: 8, 1: 8, 2: 4, 3: 4}[p["ts_type"]]
        v = int.from_bytes(need(b, o + 2, n), "big")
        p["t64"] = v if n == 8 else v << 32 if p["ts_type"] == 3 else v
        p["end"] = o + 2 + n
    elif t == 9:  # V
        p["alg"] = u8(b, o + 1)
        ml = {0: 0, 1: 20, 2: 32}[p["alg"]]
        p["mac"], p["end"] = need(b, o + 2, ml), o + 2 + ml
    elif t == 10:  # SP
        p["policy_no"], n = u8(b, o + 1), u16(b, o + 3)
        params, i = {}, o + 5
        while i < o + 5 + n:
            pt, pl = u8(b, i), u8(b, i + 1)
            params[pt] = need(b, i + 2, pl)
            i += 2 + pl
        p["params"], p["end"] = params, o + 5 + n
    elif t == 11:  # RAND
        n = u8(b, o + 1)
        p["rand"], p["end"] = need(b, o + 2, n), o + 2 + n
    elif t == 12:  # ERR
        p["err_no"], p["end"] = u8(b, o + 1), o + 4
    elif t == 14:  # IDR
        p["role"], p["id_type"], n = u8(b, o + 1), u8(b, o + 2), u16(b, o + 3)
        p["data"], p["end"] = need(b, o + 5, n), o + 5 + n
    elif t == 15:  # RANDR
        p["role"], n = u8(b, o + 1), u8(b, o + 2)
        p["rand"], p["end"] = need(b, o + 3, n), o + 3 + n
    elif t in (16, 17):  # TP, TICKET (RFC 6043 §6.10)
        p["ticket_type"] = u16(b, o + 1)
        p["prf"], b6, b7 = u8(b, o + 5) >> 1, u8(b, o + 6), u8(b, o + 7)
        d = u8(b, o + 5) & 1
        p["flags"] = {f: (d if f == "D" else
                          (b6 >> (7 - "EFGHIJKL".index(f))) & 1
                          if f in "EFGHIJKL" else
                          (b7 >> (7 - "MNO".index(f))) & 1)
                      for f in "DEFGHIJKLMNO"}
        n = u16(b, o + 8)
        p["tp_data"], o2 = (o + 10, o + 10 + n), o + 10 + n
        need(b, o + 10, n)
        if t == 17:
            n = u16(b, o2)
            p["ticket_data"] = (o2 + 2, o2 + 2 + n)
            need(b, o2 + 2, n)
            o2 += 2 + n
            p["init_len_at"] = o2
            n = u16(b, o2)
            p["init_data"] = (o2 + 2, o2 + 2 + n)
            need(b, o2 + 2, n)
            o2 += 2 + n
        p["end"] = o2
    else:
        raise Bad("payload type %d not expected here" % t)
    return p


def chain(b, o, t, end):
    """The payloads from offset o, the first of type t, up to end."""
    out = []
    while t != 0:
        p = payload(b, o, t)
        out.append(p)
        o, t = p["end"], p["next"]
    if o != end:
        raise Bad("chain ends at %d, not %d" % (o, end))
    return out


def nested(b, span):
    """TP Data / Initiator Data: first-payload byte, then a chain."""
    s, e = span
    return chain(b, s + 1, u8(b, s), e) if e > s else []


class Msg:
    """A MIKEY message: HDR (RFC 3830 §6.1, RFC 6043 §6.1.1) + payloads."""

    def __init__(self, hexs):
        b = self.b = bytes.fromhex(hexs)
        self.version, self.data_type, nxt = b[0], b[1], b[2]
        self.prf, self.csb = b[3] & 0x7F, struct.unpack(">I", b[4:8])[0]
        ncs, mt, o = b[8], b[9], 10
        self.cs = []
        for _ in range(ncs):
            if mt == 0:
                o += 9
            elif mt == 2:  # GENERIC-ID: CS ID, Prot, S|#P, Ps, SD, SPI
                cs = {"cs_id": b[o], "policies": list(b[o + 3:o + 3 +
                                                          (b[o + 2] & 127)])}
                o += 3 + (b[o + 2] & 127)
                n = u16(b, o)
                cs["session_data"], o = b[o + 2:o + 2 + n], o + 2 + n
                n = b[o]
                cs["spi"], o = b[o + 1:o + 1 + n], o + 1 + n
                self.cs.append(cs)
        self.p = chain(b, o, nxt, len(b))

    def one(self, t, **kw):
        got = [p for p in self.p if p["type"] == t and
               all(p.get(k) == v for k, v in kw.items())]
        if len(got) != 1:
            raise Bad("%d payloads of type %d %s" % (len(got), t, kw))
        return got[0]

    def maybe(self, t, **kw):
        got = [p for p in self.p if p["type"] == t and
               all(p.get(k) == v for k, v in kw.items())]
        return got[0] if got else None


# ---------------------------------------------------------------- checks

class Checker:
    def __init__(self, name):
        self.name, self.n, self.fails = name, 0, 0

    def eq(self, what, got, want):
        self.n += 1
        if got != want:
            self.fails += 1
            print("not ok - %s: %s: %s, expected %s" % (
                self.name, what, got.hex() if isinstance(got, bytes) else got,
                want.hex() if isinstance(want, bytes) else want))

    def true(self, what, cond):
        self.eq(what, bool(cond), True)


def hx(v):
    return None if v is None else bytes.fromhex(v)


SHAPE = {
    None: ["name", "suite", "forking", "kms_id", "alice", "bob",
           "ticket_key", "messages", "keys", "intermediates"],
    "alice": ["impu", "psk_id_hex", "psk_hex"],
    "bob": ["impu", "psk_id_hex", "psk_hex"],
    "ticket_key": ["id_hex", "key_hex"],
    "messages": ["request_init", "request_resp", "transfer_init",
                 "resolve_init", "resolve_resp", "transfer_resp"],
    "keys": ["mpk_i", "mpk_r", "mpk_r_forked", "session_keys", "tgk",
             "tgk_forked", "srtp"],
    "intermediates": ["request_init_auth_key", "request_resp_auth_key",
                      "request_resp_encr_key", "request_resp_salt_key",
                      "resolve_init_auth_key", "resolve_resp_auth_key",
                      "resolve_resp_encr_key", "resolve_resp_salt_key",
                      "transfer_init_auth_key", "transfer_resp_auth_key",
                      "vr_auth_key", "ticket_mac_key", "ticket_encr_key"],
}


def check_shape(ck, text):
    pairs = json.loads(text, object_pairs_hook=lambda kv: kv)
    top = dict(pairs)
    ck.eq("top-level keys in order", [k for k, _ in pairs], SHAPE[None])
    for k in SHAPE:
        if k is not None:
            ck.eq(k + " keys in order", [x for x, _ in top[k]], SHAPE[k])
    ck.eq("hex strings are lower case, null where absent",
          [x for x in hex_values(json.loads(text))
           if x is not None and x.strip("0123456789abcdef")], [])


TEXT = {"name", "kms_id", "impu", "type"}  # the strings that are not hex


def hex_values(x, key=None):
    if isinstance(x, dict):
        for k, y in x.items():
            yield from hex_values(y, k)
    elif isinstance(x, list):
        for y in x:
            yield from hex_values(y, key)
    elif key not in TEXT and (x is None or isinstance(x, str)):
        yield x


def check_resp_keys(ck, name, k, inter):
    """(encr, salt, auth) of a KMS answer against NAME_encr_key, ..."""
    ck.eq(name + " keys", k, tuple(hx(inter["%s_%s_key" % (name, x)])
                                   for x in ("encr", "salt", "auth")))


def check_v(ck, what, m, key, s, extra=b""):
    """V (last payload): MAC over the message without the MAC || extra."""
    v = m.p[-1]
    ck.eq(what + ": V is last, suite's auth alg", (v["type"], v["alg"]),
          (9, s["mac"]))
    ck.eq(what + ": V verifies",
          mac(s["mac"], key, m.b[:len(m.b) - s["ml"]] + extra), v["mac"])


def open_kemac(m, k, csb, t64):
    """Decrypt a KEMAC with (encr, salt) k: the Key data chain."""
    km = m if isinstance(m, dict) else m.one(1)
    plain = aes_cm(k[0], iv_of(k[1], csb, t64), km["encr_data"])
    return chain(plain, 0, 20, len(plain)), km


def keys_json(kd):
    return [{"type": ["TGK", "TGK+SALT", "TEK", "TEK+SALT", "GTGK",
                      "GTGK+SALT", "MPK"][p["key_type"]],
             "key": p["key"].hex(),
             "salt": None if p["salt"] is None else p["salt"].hex(),
             "spi": None if p["spi"] is None else p["spi"].hex()}
            for p in kd]


def fixed(name, what, n):
    """doc/vectors/README.md: a fixed value WHAT of chain NAME is the first
    n bytes of SHA-256(NAME/WHAT) || SHA-256(NAME/WHAT/1) || ..."""
    out, blk = b"", 0
    while len(out) < n:
        lab = "%s/%s" % (name, what) + ("/%d" % blk if blk else "")
        out += hashlib.sha256(lab.encode()).digest()
        blk += 1
    return out[:n]


T0_NTP = (1735689600 + 2208988800) << 32 | 0x40000000  # 2025-01-01 .25 s


def check_made(ck, v, m, late):
    """The values the README says how they were made: PSKs, ticket key,
    CSB IDs, RANDs and times of the messages in m (name -> Msg)."""
    name, s = v["name"], SUITES[v["suite"]]
    ck.eq("made: PSKs, ticket key",
          (v["alice"]["psk_hex"], v["bob"]["psk_hex"],
           v["ticket_key"]["key_hex"]),
          (fixed(name, "alice-psk", s["ek"]).hex(),
           fixed(name, "bob-psk", s["ek"]).hex(),
           fixed(name, "ticket-key", 32).hex()))
    made = {"request_init": ("csb-request", "randri-request", 1, 0),
            "request_resp": ("csb-request", None, None, 1 + late),
            "transfer_init": ("csb-transfer", "randri-transfer", 1, 2),
            "resolve_init": ("csb-resolve", "randrr-resolve", 2, 3),
            "resolve_resp": ("csb-resolve", None, None, 4),
            "transfer_resp": ("csb-transfer", "randrr-transfer", 2, 5)}
    for k, msg in m.items():
        csb, rand, role, sec = made[k]
        ck.eq("made: %s CSB ID" % k, msg.csb,
              int.from_bytes(fixed(name, csb, 4), "big"))
        ck.eq("made: %s T" % k, msg.one(5)["t64"], T0_NTP + (sec << 32))
        if rand:
            ck.eq("made: %s RAND" % k, msg.one(15, role=role)["rand"],
                  fixed(name, rand, s["ek"]))


def check_file(path):
    text = open(path).read()
    v = json.loads(text)
    ck = Checker(v["name"])
    check_shape(ck, text)
    s = SUITES[v["suite"]]
    msgs, keys, inter = v["messages"], v["keys"], v["intermediates"]
    alice, bob = v["alice"], v["bob"]
    id_i, id_r = alice["impu"].encode(), bob["impu"].encode()
    id_kms = v["kms_id"].encode()
    psk_a, psk_b = hx(alice["psk_hex"]), hx(bob["psk_hex"])

    # REQUEST_INIT_PSK (RFC 6043 §4.2.1.1): V keyed from alice's PSK,
    # kind 1, RANDRi; MAC input || Identity_i || Identity_kms (§5.5)
    req = Msg(msgs["request_init"])
    ck.eq("REQUEST_INIT data type", req.data_type, 11)
    ri = req.one(15, role=1)["rand"]
    idri = req.maybe(14, role=1)
    if idri:
        ck.eq("IDRi is alice", idri["data"], id_i)
    psk_id = req.maybe(14, role=4)
    if psk_id:
        ck.eq("IDRpsk is alice's", psk_id["data"], hx(alice["psk_id_hex"]))
    k_req_i = msg_keys(req.prf, psk_a, (req.csb, 1, ri), s)
    ck.eq("request_init_auth_key", k_req_i[2],
          hx(inter["request_init_auth_key"]))
    check_v(ck, "REQUEST_INIT", req, k_req_i[2], s, id_i + id_kms)

    resp = Msg(msgs["request_resp"])
    if resp.data_type == 6:
        # refused (RFC 6043 §5.4): HDR copied, V keyed with the auth_key of
        # the failing message over the Error message alone
        ck.eq("Error HDR CSB ID", resp.csb, req.csb)
        ck.true("Error has an ERR", resp.maybe(12))
        check_v(ck, "Error", resp, k_req_i[2], s)
        ck.true("after an Error every other field is null",
                all(msgs[k] is None for k in SHAPE["messages"][2:]) and
                all(x is None for x in keys.values()) and
                all(inter[k] is None for k in SHAPE["intermediates"][1:]))
        check_made(ck, v, {"request_init": req, "request_resp": resp}, 3600)
        return ck

    # REQUEST_RESP (§4.2.1.5): kind-2 keys; V over RESP || REQUEST_INIT;
    # KEMAC with the IV of this answer's CSB ID and T
    ck.eq("REQUEST_RESP data type", resp.data_type, 13)
    k_req_r = msg_keys(resp.prf, psk_a, (resp.csb, 2, ri), s)
    check_resp_keys(ck, "request_resp", k_req_r, inter)
    check_v(ck, "REQUEST_RESP", resp, k_req_r[2], s, req.b)
    kd, km = open_kemac(resp, k_req_r, resp.csb, resp.one(5)["t64"])
    ck.eq("REQUEST_RESP KEMAC: suite's AES-CM, MAC alg NULL",
          (km["encr_alg"], km["mac_alg"]), (s["encr"], 0))
    mpki = kd[0]["key"]
    ck.eq("REQUEST_RESP: MPKi", mpki, hx(keys["mpk_i"]))
    first = 2 if v["forking"] else 1
    ck.eq("REQUEST_RESP: MPKs", [p["key_type"] for p in kd[:first]],
          [6] * first)
    if v["forking"]:
        ck.eq("REQUEST_RESP: MPKr", kd[1]["key"], hx(keys["mpk_r"]))
    ck.eq("REQUEST_RESP: session keys", keys_json(kd[first:]),
          keys["session_keys"])
    sess = kd[first:]

    # the base ticket (App. A): keys from the ticket key and RAND with the
    # TP PRF; MAC over the TICKET without Next payload, Initiator Data
    # and MAC; KEMAC under CSB ID 0xFFFFFFFF and the ticket's T
    tkt = resp.one(17)
    tpk = hx(v["ticket_key"]["key_hex"])
    ts, te = tkt["ticket_data"]
    td = resp.b[ts:te]
    thdr_len = u16(td, 1)
    tchain = chain(td, 3 + thdr_len, u8(td, 0), len(td))
    tt = [p for p in tchain if p["type"] == 5][0]
    trand = [p for p in tchain if p["type"] == 11][0]["rand"]
    tk_id = [p for p in tchain if p["type"] == 14 and p["role"] == 4][0]
    ck.eq("ticket IDRpsk names the ticket key", tk_id["data"],
          hx(v["ticket_key"]["id_hex"]))
    tp_prf = tkt["prf"]
    t_encr = prf(tp_prf, tpk, label_fixed(C_ENCR, 5, trand), s["ek"])
    t_salt = prf(tp_prf, tpk, label_fixed(C_SALT, 5, trand), 14)
    t_auth = prf(tp_prf, tpk, label_fixed(C_AUTH, 5, trand), s["ak"])
    ck.eq("ticket_mac_key", t_auth, hx(inter["ticket_mac_key"]))
    ck.eq("ticket_encr_key", t_encr, hx(inter["ticket_encr_key"]))
    ck.eq("ticket MAC", mac(s["mac"], t_auth,
                            resp.b[tkt["start"] + 1:te - s["ml"]]),
          tchain[-1]["mac"])
    tkd, _ = open_kemac([p for p in tchain if p["type"] == 1][0],
                        (t_encr, t_salt), 0xFFFFFFFF, tt["t64"])
    mpk = tkd[0]["key"]
    ck.eq("ticket: MPK then the session keys", keys_json(tkd[1:]),
          keys["session_keys"])
    ck.eq("MPKi = PRF(MPK, 0x06 label)",
          prf(tp_prf, mpk, label_fixed(C_MPKI, 6, trand), len(mpk)), mpki)
    mpkr = prf(tp_prf, mpk, label_fixed(C_MPKR, 6, trand), len(mpk))
    if v["forking"]:
        ck.eq("MPKr = PRF(MPK, 0x06 label)", mpkr, hx(keys["mpk_r"]))
    tgks = [p["key"].hex() for p in sess if p["key_type"] in (0, 1)]
    ck.eq("tgk", tgks, keys["tgk"])
    flags = tkt["flags"]
    ck.eq("granted flag I", flags["I"], int(v["forking"]))

    # TRANSFER_INIT (§4.2.2.1): V keyed from MPKi over the message without
    # Initiator Data length + Initiator Data, || Identity_i || Identity_r
    ti = Msg(msgs["transfer_init"])
    ck.eq("TRANSFER_INIT data type", ti.data_type, 14)
    ri_t = ti.one(15, role=1)["rand"]
    k_ti = msg_keys(ti.prf, mpki, (ti.csb, 1, ri_t), s)
    ck.eq("transfer_init_auth_key", k_ti[2],
          hx(inter["transfer_init_auth_key"]))
    t2 = ti.one(17)
    ck.eq("TRANSFER_INIT carries the ticket",
          ti.b[t2["start"] + 1:t2["init_len_at"]],
          resp.b[tkt["start"] + 1:tkt["init_len_at"]])
    signed = (ti.b[:t2["init_len_at"]] + ti.b[t2["end"]:len(ti.b) - s["ml"]])
    ck.eq("TRANSFER_INIT V verifies",
          mac(s["mac"], k_ti[2], signed + id_i + id_r), ti.p[-1]["mac"])
    if v["forking"]:
        # Initiator Data = Vi, Vr (§6.10): Vi a copy of V; Vr keyed from
        # unforked MPKr with the 0x04 label and the TP PRF
        idata = nested(ti.b, t2["init_data"])
        ck.eq("Initiator Data is Vi, Vr", [p["type"] for p in idata], [9, 9])
        ck.eq("Vi = V of TRANSFER_INIT", (idata[0]["alg"], idata[0]["mac"]),
              (ti.p[-1]["alg"], ti.p[-1]["mac"]))
        vr_key = prf(tp_prf, mpkr, label_fixed(C_AUTH, 4), s["ak"])
        ck.eq("vr_auth_key", vr_key, hx(inter["vr_auth_key"]))
        a, e = t2["init_data"]
        ck.eq("Vr verifies", mac(s["mac"], vr_key, ti.b[a:e - s["ml"]]),
              idata[1]["mac"])
    else:
        ck.eq("no Initiator Data", t2["init_data"][1] - t2["init_data"][0], 0)
        ck.eq("vr_auth_key null", inter["vr_auth_key"], None)

    # RESOLVE_INIT_PSK (§4.2.3.1): bob's PSK, kind 1, RANDRr only;
    # || Identity_r || Identity_kms; the ticket copied with Initiator Data
    res = Msg(msgs["resolve_init"])
    ck.eq("RESOLVE_INIT data type", res.data_type, 16)
    rr = res.one(15, role=2)["rand"]
    k_res_i = msg_keys(res.prf, psk_b, (res.csb, 1, b"", rr), s)
    ck.eq("resolve_init_auth_key", k_res_i[2],
          hx(inter["resolve_init_auth_key"]))
    check_v(ck, "RESOLVE_INIT", res, k_res_i[2], s, id_r + id_kms)
    t3 = res.one(17)
    ck.eq("RESOLVE_INIT carries TRANSFER_INIT's TICKET",
          res.b[t3["start"] + 1:t3["end"]], ti.b[t2["start"] + 1:t2["end"]])

    # RESOLVE_RESP (§4.2.3.5): kind 2; MPKi, [MPKr'], keys (TGK' forked)
    rresp = Msg(msgs["resolve_resp"])
    ck.eq("RESOLVE_RESP data type", rresp.data_type, 18)
    k_res_r = msg_keys(rresp.prf, psk_b, (rresp.csb, 2, b"", rr), s)
    check_resp_keys(ck, "resolve_resp", k_res_r, inter)
    check_v(ck, "RESOLVE_RESP", rresp, k_res_r[2], s, res.b)
    bkd, _ = open_kemac(rresp, k_res_r, rresp.csb, rresp.one(5)["t64"])
    ck.eq("RESOLVE_RESP: MPKi", bkd[0]["key"], mpki)
    bsess = bkd[first:]
    if v["forking"]:
        idrr = rresp.one(14, role=2)["data"]
        rk = rresp.one(15, role=3)["rand"]
        ck.eq("RESOLVE_RESP IDRr is bob", idrr, id_r)
        mpkr_f = prf(tp_prf, mpkr, label_fork(C_FORK_MPKR, idrr, rk),
                     len(mpkr))
        ck.eq("MPKr' = fork(MPKr)", bkd[1]["key"], mpkr_f)
        ck.eq("mpk_r_forked", mpkr_f, hx(keys["mpk_r_forked"]))
        forked = []
        for a, b in zip(sess, bsess):
            want = a["key"]
            if a["key_type"] in (0, 1):
                want = prf(tp_prf, a["key"], label_fork(C_FORK_TGK, idrr, rk),
                           len(a["key"]))
                forked.append(want.hex())
            ck.eq("RESOLVE_RESP key (TGK forked, others not)", b["key"], want)
        ck.eq("tgk_forked", forked, keys["tgk_forked"])
        k_tr_key = mpkr_f
    else:
        ck.eq("RESOLVE_RESP: the same session keys", keys_json(bsess),
              keys["session_keys"])
        ck.eq("no forked keys", (keys["mpk_r"], keys["mpk_r_forked"],
                                 keys["tgk_forked"]), (None, None, None))
        k_tr_key = mpki

    # TRANSFER_RESP (§4.2.2.3): MPKr' or MPKi, kind 2, RANDRi and RANDRr
    # (G); V over TRANSFER_RESP || TRANSFER_INIT
    tr = Msg(msgs["transfer_resp"])
    ck.eq("TRANSFER_RESP data type", tr.data_type, 15)
    rr_t = tr.one(15, role=2)["rand"] if flags["G"] else b""
    k_tr = msg_keys(tr.prf, k_tr_key, (tr.csb, 2, ri_t, rr_t), s)
    ck.eq("transfer_resp_auth_key", k_tr[2],
          hx(inter["transfer_resp_auth_key"]))
    check_v(ck, "TRANSFER_RESP", tr, k_tr[2], s, ti.b)

    # SRTP master keys (§5.1.3): from the (forked) TGK, RANDRi iff H,
    # RANDRr iff G, HDR PRF; a TEK(+SALT) is the master key (and salt)
    ck.eq("one crypto session per session key", len(tr.cs), len(sess))
    sps = {p["policy_no"]: p["params"] for p in tr.p if p["type"] == 10}
    out = []
    for cs in tr.cs:
        k = [i for i, p in enumerate(sess) if p["spi"] == cs["spi"]]
        ck.eq("CS %d names one session key by its SPI" % cs["cs_id"],
              len(k), 1)
        sk = bsess[k[0]]
        params = sps[cs["policies"][0]]
        klen, slen = params[1][0], params[4][0]
        if sk["key_type"] in (2, 3):
            mk, ms = sk["key"], sk["salt"] or b""
        else:
            lab = (cs["cs_id"], ri_t if flags["H"] else b"", rr_t)
            mk = prf(ti.prf, sk["key"], label_tek(C_TEK, *lab), klen)
            ms = sk["salt"] or prf(ti.prf, sk["key"],
                                   label_tek(C_SALT_TGK, *lab), slen)
        out.append({"cs_id": cs["cs_id"], "spi": cs["spi"].hex(),
                    "master_key": mk.hex(), "master_salt": ms.hex()})
    ck.eq("srtp", out, keys["srtp"])

    # how the KMS's random bytes were made: its first draw (kms/0) is MPK,
    # then key, salt and SPI of each session key, then the ticket RAND;
    # with forking the second (kms/1) is RANDRkms
    drawn = mpk + b"".join(p["key"] + (p["salt"] or b"") + (p["spi"] or b"")
                           for p in tkd[1:]) + trand
    ck.eq("made: the KMS's draw kms/0", drawn,
          fixed(v["name"], "kms/0", len(drawn)))
    if v["forking"]:
        ck.eq("made: RANDRkms is the draw kms/1", rk,
              fixed(v["name"], "kms/1", len(rk)))
    check_made(ck, v, {"request_init": req, "request_resp": resp,
                       "transfer_init": ti, "resolve_init": res,
                       "resolve_resp": rresp, "transfer_resp": tr}, 0)
    return ck


def main(paths):
    fails = 0
    for path in paths:
        try:
            ck = check_file(path)
        except (Bad, KeyError, IndexError, ValueError) as e:
            print("not ok - %s: %s" % (path, e))
            fails += 1
            continue
        print("%s - %s: %d checks" % ("not ok" if ck.fails else "ok",
                                      ck.name, ck.n))
        fails += ck.fails
    return 1 if fails or not paths else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
