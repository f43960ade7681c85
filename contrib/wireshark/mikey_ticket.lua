-- mikey_ticket.lua - a Wireshark / tshark dissector for MIKEY-TICKET
-- (RFC 6043) on top of MIKEY (RFC 3830), as a KMS speaks it over HTTP
-- (3GPP TS 33.328 annex: POST /keymanagement?requesttype=ticketrequest or
-- ticketresolve, Content-Type application/mikey, base64 bodies).
--
-- Use:  tshark -X lua_script:mikey_ticket.lua -r capture.pcapng -V
--       (a KMS on a port other than 80: add -d tcp.port==PORT,http)
--   or copy this file into Wireshark's personal plugins folder
--   (Help > About Wireshark > Folders), e.g. ~/.local/lib/wireshark/plugins/
--
-- It takes every HTTP body of type application/mikey (taking it over from
-- Wireshark's own MIKEY dissector, which stops at the first RFC 6043
-- payload), base64 or binary, and dissects the whole message: the common
-- header with its CS ID map (SRTP-ID, Empty, GENERIC-ID), every RFC 3830
-- payload (KEMAC with its Key data when not encrypted, PKE, DH, SIGN, T, ID,
-- CERT, CHASH, V, SP, RAND, ERR, General Extension) and every RFC 6043 one
-- (TR, IDR, RANDR, TP and TICKET with their flags, TP Data and Initiator
-- Data as payload chains, Ticket Data as opaque bytes). A length that runs
-- past its container is reported as a Malformed expert item and ends the
-- dissection there. Field names are under mikeyt.* (tshark -G fields |
-- grep mikeyt). Also registered as dissector "mikeyt" for raw messages
-- (text2pcap -P mikeyt, or Decode As).
--
-- Part of mikeykms; tested by tests/wireshark_dissector.sh against
-- captures of real chains through lighttpd.

local mikeyt = Proto("mikeyt", "MIKEY-TICKET (RFC 6043 / RFC 3830)")

-- ------------------------------------------------------------ names
-- (the wording of the RFCs and of IANA's mikey-payloads registry)

local data_types = {
    [0] = "Pre-shared", [1] = "PSK ver msg", [2] = "Public key",
    [3] = "PK ver msg", [4] = "D-H init", [5] = "D-H resp", [6] = "Error",
    [7] = "DHHMAC init", [8] = "DHHMAC resp", [9] = "RSA-R I_MSG",
    [10] = "RSA-R R_MSG", [11] = "REQUEST_INIT_PSK", [12] = "REQUEST_INIT_PK",
    [13] = "REQUEST_RESP", [14] = "TRANSFER_INIT", [15] = "TRANSFER_RESP",
    [16] = "RESOLVE_INIT_PSK", [17] = "RESOLVE_INIT_PK", [18] = "RESOLVE_RESP",
    [19] = "REQUEST_KEY_PSK", [20] = "REQUEST_KEY_PKE",
    [21] = "REQUEST_KEY_RESP", [22] = "I_MESSAGE_1", [23] = "R_MESSAGE_1",
    [24] = "I_MESSAGE_2", [25] = "R_MESSAGE_2", [26] = "SAKKE msg",
}
local payload_types = {
    [0] = "Last payload", [1] = "KEMAC", [2] = "PKE", [3] = "DH",
    [4] = "SIGN", [5] = "T", [6] = "ID", [7] = "CERT", [8] = "CHASH",
    [9] = "V", [10] = "SP", [11] = "RAND", [12] = "ERR", [13] = "TR",
    [14] = "IDR", [15] = "RANDR", [16] = "TP", [17] = "TICKET",
    [20] = "Key data", [21] = "General Ext.", [22] = "IBAKE", [23] = "ESK",
    [24] = "SK", [25] = "ECCPT", [26] = "SAKKE",
}
local prf_funcs = { [0] = "MIKEY-1", [1] = "PRF-HMAC-SHA-256" }
local map_types = { [0] = "SRTP-ID", [1] = "Empty map", [2] = "GENERIC-ID" }
local encr_algs = { [0] = "NULL", [1] = "AES-CM-128", [2] = "AES-KW-128",
                    [3] = "AES-CM-256" }
local mac_algs = { [0] = "NULL", [1] = "HMAC-SHA-1-160",
                   [2] = "HMAC-SHA-256-256" }
local ts_types = { [0] = "NTP-UTC", [1] = "NTP", [2] = "COUNTER",
                   [3] = "NTP-UTC-32" }
local ts_roles = { [1] = "TRi (time of issue)", [2] = "TRs (start of validity)",
                   [3] = "TRe (end of validity)", [4] = "TRr (rekeying interval)" }
local id_types = { [0] = "NAI", [1] = "URI", [2] = "Byte string" }
local cert_types = { [0] = "X.509v3", [1] = "X.509v3 URL", [2] = "X.509v3 Sign",
                     [3] = "X.509v3 Encr" }
local id_roles = { [1] = "IDRi", [2] = "IDRr", [3] = "IDRkms", [4] = "IDRpsk",
                   [5] = "IDRapp", [6] = "IDRkmsi", [7] = "IDRkmsr" }
local rand_roles = { [1] = "RANDRi", [2] = "RANDRr", [3] = "RANDRkms" }
local ticket_types = { [1] = "MIKEY base ticket", [2] = "3GPP base ticket" }
local error_nos = {
    [0] = "Auth failure", [1] = "Invalid TS", [2] = "Invalid PRF",
    [3] = "Invalid MAC", [4] = "Invalid EA", [5] = "Invalid HA",
    [6] = "Invalid DH", [7] = "Invalid ID", [8] = "Invalid Cert",
    [9] = "Invalid SP", [10] = "Invalid SPpar", [11] = "Invalid DT",
    [12] = "Unspecified error", [13] = "Unsupported message type",
    [14] = "Invalid TICKET", [15] = "Invalid TPpar",
}
local key_types = { [0] = "TGK", [1] = "TGK+SALT", [2] = "TEK", [3] = "TEK+SALT",
                    [4] = "GTGK", [5] = "GTGK+SALT", [6] = "MPK", [7] = "K_PR" }
local kv_types = { [0] = "Null", [1] = "SPI/MKI", [2] = "Interval" }
local hash_funcs = { [0] = "SHA-1", [1] = "MD5", [2] = "SHA-256" }
local dh_groups = { [0] = "OAKLEY 5", [1] = "OAKLEY 1", [2] = "OAKLEY 2" }
local sign_types = { [0] = "RSA/PKCS#1/1.5", [1] = "RSA/PSS", [2] = "ECCSI" }
local prot_types = { [0] = "SRTP", [1] = "TESLA" }
local pke_cs = { [0] = "No cache", [1] = "Cache", [2] = "Cache for CSB" }
local genext_types = { [0] = "Vendor ID", [1] = "SDP IDs", [2] = "TESLA I-Key",
                       [3] = "Key ID", [4] = "CSB_ID", [5] = "OMA BCAST" }
local srtp_params = {
    [0] = "Encryption algorithm", [1] = "Session Encr. key length",
    [2] = "Authentication algorithm", [3] = "Session Auth. key length",
    [4] = "Session Salt key length", [5] = "SRTP Pseudo Random Function",
    [6] = "Key derivation rate", [7] = "SRTP encryption off/on",
    [8] = "SRTCP encryption off/on", [9] = "sender's FEC order",
    [10] = "SRTP authentication off/on", [11] = "Authentication tag length",
    [12] = "SRTP prefix length", [13] = "ROC transmission rate",
    [14] = "SRTP Authentication algorithm",
    [15] = "SRTCP Authentication algorithm",
    [16] = "SRTP Session Auth. key length",
    [17] = "SRTCP Session Auth. key length",
    [18] = "SRTP Authentication tag length",
    [19] = "SRTCP Authentication tag length",
    [20] = "AEAD authentication tag length",
}

-- lengths implied by algorithm numbers (nil: unknown, cannot go on)
local mac_lens = { [0] = 0, [1] = 20, [2] = 32 }
local ts_lens = { [0] = 8, [1] = 8, [2] = 4, [3] = 4 }
local hash_lens = { [0] = 20, [1] = 16, [2] = 32 }
local dh_lens = { [0] = 192, [1] = 96, [2] = 128 }

-- ------------------------------------------------------------ fields

local F = {}
local function field(name, ...)
    F[name] = ...
end
local pf = ProtoField

field("encoding", pf.string("mikeyt.encoding", "Body encoding"))
field("requesttype", pf.string("mikeyt.requesttype", "requesttype"))
-- HDR (RFC 3830 §6.1, RFC 6043 §6.1)
field("hdr", pf.none("mikeyt.hdr", "Common header (HDR)"))
field("hdr.version", pf.uint8("mikeyt.hdr.version", "Version"))
field("hdr.data_type", pf.uint8("mikeyt.hdr.data_type", "Data type", base.DEC, data_types))
field("hdr.next_payload", pf.uint8("mikeyt.hdr.next_payload", "Next payload", base.DEC, payload_types))
field("hdr.v", pf.bool("mikeyt.hdr.v", "V flag", 8, nil, 0x80))
field("hdr.prf_func", pf.uint8("mikeyt.hdr.prf_func", "PRF func", base.DEC, prf_funcs, 0x7f))
field("hdr.csb_id", pf.uint32("mikeyt.hdr.csb_id", "CSB ID", base.HEX))
field("hdr.n_cs", pf.uint8("mikeyt.hdr.n_cs", "#CS"))
field("hdr.map_type", pf.uint8("mikeyt.hdr.map_type", "CS ID map type", base.DEC, map_types))
field("hdr.map_info", pf.bytes("mikeyt.hdr.map_info", "CS ID map info"))
field("srtp_id", pf.none("mikeyt.srtp_id", "SRTP-ID entry"))
field("srtp_id.policy_no", pf.uint8("mikeyt.srtp_id.policy_no", "Policy_no"))
field("srtp_id.ssrc", pf.uint32("mikeyt.srtp_id.ssrc", "SSRC", base.HEX))
field("srtp_id.roc", pf.uint32("mikeyt.srtp_id.roc", "ROC"))
field("cs", pf.none("mikeyt.cs", "GENERIC-ID crypto session"))
field("cs.id", pf.uint8("mikeyt.cs.id", "CS ID"))
field("cs.prot_type", pf.uint8("mikeyt.cs.prot_type", "Prot type", base.DEC, prot_types))
field("cs.s", pf.bool("mikeyt.cs.s", "S (ROC and SEQ present)", 8, nil, 0x80))
field("cs.n_p", pf.uint8("mikeyt.cs.n_p", "#P", base.DEC, nil, 0x7f))
field("cs.policy_no", pf.uint8("mikeyt.cs.policy_no", "Policy_no"))
field("cs.session_data_len", pf.uint16("mikeyt.cs.session_data_len", "Session Data Length"))
field("cs.session_data", pf.bytes("mikeyt.cs.session_data", "Session Data"))
field("cs.ssrc", pf.uint32("mikeyt.cs.ssrc", "SSRC", base.HEX))
field("cs.roc", pf.uint32("mikeyt.cs.roc", "ROC"))
field("cs.seq", pf.uint16("mikeyt.cs.seq", "SEQ"))
field("cs.spi_len", pf.uint8("mikeyt.cs.spi_len", "SPI Length"))
field("cs.spi", pf.bytes("mikeyt.cs.spi", "SPI (MKI)"))
-- every payload
field("payload", pf.none("mikeyt.payload", "Payload"))
field("payload.type", pf.uint8("mikeyt.payload.type", "Payload type", base.DEC, payload_types))
field("payload.next", pf.uint8("mikeyt.payload.next", "Next payload", base.DEC, payload_types))
field("payload.length", pf.uint16("mikeyt.payload.length", "Payload length"))
field("first_payload", pf.uint8("mikeyt.first_payload", "First payload", base.DEC, payload_types))
-- KEMAC (RFC 3830 §6.2, RFC 6043 §6.2)
field("kemac.encr_alg", pf.uint8("mikeyt.kemac.encr_alg", "Encr alg", base.DEC, encr_algs))
field("kemac.encr_data_len", pf.uint16("mikeyt.kemac.encr_data_len", "Encr data len"))
field("kemac.encr_data", pf.bytes("mikeyt.kemac.encr_data", "Encr data"))
field("kemac.mac_alg", pf.uint8("mikeyt.kemac.mac_alg", "MAC alg", base.DEC, mac_algs))
field("kemac.mac", pf.bytes("mikeyt.kemac.mac", "MAC"))
-- Key data (RFC 3830 §6.13, RFC 6043 §6.2.1)
field("key.type", pf.uint8("mikeyt.key.type", "Type", base.DEC, key_types, 0xf0))
field("key.kv", pf.uint8("mikeyt.key.kv", "KV", base.DEC, kv_types, 0x0f))
field("key.len", pf.uint16("mikeyt.key.len", "Key data len"))
field("key.data", pf.bytes("mikeyt.key.data", "Key data"))
field("key.salt_len", pf.uint16("mikeyt.key.salt_len", "Salt len"))
field("key.salt", pf.bytes("mikeyt.key.salt", "Salt data"))
field("kv.spi_len", pf.uint8("mikeyt.kv.spi_len", "SPI Length"))
field("kv.spi", pf.bytes("mikeyt.kv.spi", "SPI"))
field("kv.vf", pf.bytes("mikeyt.kv.vf", "Valid From"))
field("kv.vt", pf.bytes("mikeyt.kv.vt", "Valid To"))
-- PKE, DH, SIGN (RFC 3830 §6.3-§6.5)
field("pke.c", pf.uint16("mikeyt.pke.c", "C", base.DEC, pke_cs, 0xc000))
field("pke.len", pf.uint16("mikeyt.pke.len", "Data len", base.DEC, nil, 0x3fff))
field("pke.data", pf.bytes("mikeyt.pke.data", "Data"))
field("dh.group", pf.uint8("mikeyt.dh.group", "DH-Group", base.DEC, dh_groups))
field("dh.value", pf.bytes("mikeyt.dh.value", "DH-value"))
field("dh.kv", pf.uint8("mikeyt.dh.kv", "KV", base.DEC, kv_types, 0x0f))
field("sign.type", pf.uint16("mikeyt.sign.type", "S type", base.DEC, sign_types, 0xf000))
field("sign.len", pf.uint16("mikeyt.sign.len", "Signature len", base.DEC, nil, 0x0fff))
field("sign.data", pf.bytes("mikeyt.sign.data", "Signature"))
-- T and TR (RFC 3830 §6.6, RFC 6043 §6.3, §6.4)
field("t.ts_type", pf.uint8("mikeyt.t.ts_type", "TS type", base.DEC, ts_types))
field("t.value", pf.bytes("mikeyt.t.value", "TS value"))
field("t.time", pf.absolute_time("mikeyt.t.time", "Time", base.UTC))
field("tr.role", pf.uint8("mikeyt.tr.role", "TS Role", base.DEC, ts_roles))
-- ID, CERT, IDR (RFC 3830 §6.7, RFC 6043 §6.5, §6.6)
field("id.type", pf.uint8("mikeyt.id.type", "ID Type", base.DEC, id_types))
field("id.len", pf.uint16("mikeyt.id.len", "ID len"))
field("id.data", pf.bytes("mikeyt.id.data", "ID Data"))
field("cert.type", pf.uint8("mikeyt.cert.type", "Cert Type", base.DEC, cert_types))
field("cert.len", pf.uint16("mikeyt.cert.len", "Cert len"))
field("cert.data", pf.bytes("mikeyt.cert.data", "Certificate"))
field("idr.role", pf.uint8("mikeyt.idr.role", "ID Role", base.DEC, id_roles))
field("idr.type", pf.uint8("mikeyt.idr.type", "ID Type", base.DEC, id_types))
field("idr.len", pf.uint16("mikeyt.idr.len", "ID len"))
field("idr.data", pf.bytes("mikeyt.idr.data", "ID Data"))
field("idr.text", pf.string("mikeyt.idr.text", "ID Data (text)"))
-- CHASH, V (RFC 3830 §6.8, §6.9, RFC 6043 §6.7)
field("chash.func", pf.uint8("mikeyt.chash.func", "Hash func", base.DEC, hash_funcs))
field("chash.hash", pf.bytes("mikeyt.chash.hash", "Hash"))
field("v.alg", pf.uint8("mikeyt.v.alg", "Auth alg", base.DEC, mac_algs))
field("v.mac", pf.bytes("mikeyt.v.mac", "Ver data (MAC)"))
-- SP (RFC 3830 §6.10)
field("sp.policy_no", pf.uint8("mikeyt.sp.policy_no", "Policy no"))
field("sp.prot_type", pf.uint8("mikeyt.sp.prot_type", "Prot type", base.DEC, prot_types))
field("sp.param_len", pf.uint16("mikeyt.sp.param_len", "Policy param length"))
field("sp.param.type", pf.uint8("mikeyt.sp.param.type", "Type", base.DEC, srtp_params))
field("sp.param.len", pf.uint8("mikeyt.sp.param.len", "Length"))
field("sp.param.value", pf.bytes("mikeyt.sp.param.value", "Value"))
-- RAND, RANDR (RFC 3830 §6.11, RFC 6043 §6.8)
field("rand.len", pf.uint8("mikeyt.rand.len", "RAND len"))
field("rand.data", pf.bytes("mikeyt.rand.data", "RAND"))
field("randr.role", pf.uint8("mikeyt.randr.role", "RAND Role", base.DEC, rand_roles))
field("randr.len", pf.uint8("mikeyt.randr.len", "RAND length"))
field("randr.data", pf.bytes("mikeyt.randr.data", "RAND"))
-- ERR (RFC 3830 §6.12, RFC 6043 §6.9)
field("err.no", pf.uint8("mikeyt.err.no", "Error no", base.DEC, error_nos))
field("err.reserved", pf.uint16("mikeyt.err.reserved", "Reserved"))
-- TP, TICKET (RFC 6043 §6.10)
field("tp.ticket_type", pf.uint16("mikeyt.tp.ticket_type", "Ticket Type", base.DEC, ticket_types))
field("tp.subtype", pf.uint8("mikeyt.tp.subtype", "Subtype"))
field("tp.version", pf.uint8("mikeyt.tp.version", "Version"))
field("tp.prf_func", pf.uint8("mikeyt.tp.prf_func", "PRF Func", base.DEC, prf_funcs, 0xfe))
field("tp.flags", pf.string("mikeyt.tp.flags", "Flags"))
local flag_bits = {
    { "D", 5, 0x01, "D: ticket made by the KMS" },
    { "E", 6, 0x80, "E: Ticket Resolve mandatory" },
    { "F", 6, 0x40, "F: TRANSFER_RESP shall be sent" },
    { "G", 6, 0x20, "G: Responder generates RANDRr" },
    { "H", 6, 0x10, "H: RANDRi used in the TEK derivation" },
    { "I", 6, 0x08, "I: key forking" },
    { "J", 6, 0x04, "J: ticket may be reused" },
    { "K", 6, 0x02, "K: KMS changed the request" },
    { "L", 6, 0x01, "L: Initiator may supply session keys" },
    { "M", 7, 0x80, "M: Responder may supply session keys" },
    { "N", 7, 0x40, "N: plain Initiator can send it" },
    { "O", 7, 0x20, "O: plain Responder can process it" },
}
for _, f in ipairs(flag_bits) do
    field("tp.flag." .. f[1], pf.bool("mikeyt.tp.flag." .. f[1]:lower(), f[4], 8, nil, f[3]))
end
field("tp.res", pf.uint8("mikeyt.tp.res", "Res", base.HEX, nil, 0x1f))
field("tp.data_len", pf.uint16("mikeyt.tp.data_len", "TP Data length"))
field("tp.data", pf.none("mikeyt.tp.data", "TP Data"))
field("ticket.data_len", pf.uint16("mikeyt.ticket.data_len", "Ticket Data length"))
field("ticket.data", pf.bytes("mikeyt.ticket.data", "Ticket Data (opaque)"))
field("ticket.init_len", pf.uint16("mikeyt.ticket.init_len", "Initiator Data length"))
field("ticket.init", pf.none("mikeyt.ticket.init", "Initiator Data"))
-- General Extension (RFC 3830 §6.15), SAKKE (RFC 6509)
field("ext.type", pf.uint8("mikeyt.ext.type", "Type", base.DEC, genext_types))
field("ext.len", pf.uint16("mikeyt.ext.len", "Length"))
field("ext.data", pf.bytes("mikeyt.ext.data", "Data"))
field("sakke.params", pf.uint8("mikeyt.sakke.params", "SAKKE params"))
field("sakke.id_scheme", pf.uint8("mikeyt.sakke.id_scheme", "ID scheme"))
field("sakke.len", pf.uint16("mikeyt.sakke.len", "SAKKE data length"))
field("sakke.data", pf.bytes("mikeyt.sakke.data", "SAKKE data"))

local list = {}
for _, f in pairs(F) do
    list[#list + 1] = f
end
mikeyt.fields = list

local ex_malformed = ProtoExpert.new("mikeyt.malformed", "Malformed MIKEY message",
    expert.group.MALFORMED, expert.severity.ERROR)
local ex_unknown = ProtoExpert.new("mikeyt.unknown", "Unknown MIKEY value",
    expert.group.UNDECODED, expert.severity.WARN)
mikeyt.experts = { ex_malformed, ex_unknown }

local f_req_uri = Field.new("http.request.uri")
local f_resp_uri = Field.new("http.response_for.uri")

-- ------------------------------------------------------------ helpers

-- Raised (error()) when a length runs past its container; caught in
-- dissect_message, which has already added the expert item.
local Malformed = {}

local function need(ctx, tree, off, n, limit, what)
    if off + n > limit then
        local left = limit - off
        if left < 0 then left = 0 end
        local item = tree
        if left > 0 then
            item = tree:add(ctx.tvb:range(off, left), "[truncated " .. what .. "]")
        end
        item:add_proto_expert_info(ex_malformed, string.format(
            "%s: %d bytes needed at offset %d, %d left", what, n, off, left))
        ctx.malformed = true
        error(Malformed)
    end
end

local function name_of(tab, v)
    return tab[v] or "Unknown"
end

local function printable(r)
    local s = r:raw()
    if #s > 0 and not s:find("[^\32-\126]") then
        return s
    end
    return nil
end

-- the payload dissectors, by type; each returns the offset after it
local P = {}

-- A chain of payloads from `off`, the first of type `first`, inside
-- [off, limit): returns the offset after the last one.
local function chain(ctx, tree, off, first, limit)
    local t = first
    while t ~= 0 do
        if off >= limit then
            need(ctx, tree, off, 1, limit, (payload_types[t] or "payload") .. " payload")
        end
        local fn = P[t]
        local item = tree:add(F["payload"], ctx.tvb:range(off, limit - off))
        item:set_text(string.format("%s (type %d)", name_of(payload_types, t), t))
        item:add(F["payload.type"], t):set_generated()
        if not fn then
            -- no generic length in MIKEY (RFC 3830 §6.1): cannot skip it
            item:add_proto_expert_info(ex_unknown, string.format(
                "payload type %d unknown: the rest cannot be dissected", t))
            ctx.malformed = true
            return limit
        end
        local ok, after_or_err, next_t, summary = pcall(fn, ctx, item, off, limit)
        if not ok then
            if after_or_err == Malformed then
                item:append_text(" [malformed]")
                error(Malformed)
            end
            error(after_or_err)
        end
        item:set_len(after_or_err - off)
        item:add(F["payload.length"], after_or_err - off):set_generated()
        if summary then
            item:append_text(": " .. summary)
        end
        off, t = after_or_err, next_t
    end
    return off
end

-- TP Data / Initiator Data: a first-payload byte, then a payload chain
local function nested(ctx, tree, field_name, off, len)
    if len == 0 then
        return
    end
    local sub = tree:add(F[field_name], ctx.tvb:range(off, len))
    local first = ctx.tvb:range(off, 1):uint()
    sub:add(F["first_payload"], ctx.tvb:range(off, 1))
    local after = chain(ctx, sub, off + 1, first, off + len)
    if after ~= off + len then
        sub:add_proto_expert_info(ex_malformed, string.format(
            "%d bytes after the last payload", off + len - after))
        ctx.malformed = true
    end
end

-- The fixed part of a payload: `n` bytes at off (Next payload first);
-- returns the Next payload value.
local function head(ctx, item, off, n, limit, what)
    need(ctx, item, off, n, limit, what .. " header")
    item:add(F["payload.next"], ctx.tvb:range(off, 1))
    return ctx.tvb:range(off, 1):uint()
end

-- A length field of w bytes at off (shown as field lf when given), then
-- that many bytes (field df): returns the offset after them and the length.
local function lv(ctx, item, off, w, lf, df, limit, what)
    need(ctx, item, off, w, limit, what .. " length")
    local n = ctx.tvb:range(off, w):uint()
    if lf then item:add(F[lf], ctx.tvb:range(off, w)) end
    need(ctx, item, off + w, n, limit, what)
    if n > 0 and df then item:add(F[df], ctx.tvb:range(off + w, n)) end
    return off + w + n, n
end

-- The length an algorithm number implies (tab); an unknown one ends the
-- dissection, since nothing else says how long the value is.
local function implied(ctx, item, tab, v, what)
    local n = tab[v]
    if not n then
        item:add_proto_expert_info(ex_unknown, what .. " unknown: its length is not known")
        ctx.malformed = true
        error(Malformed)
    end
    return n
end

-- T value (RFC 3830 §6.6): 64-bit NTP, or 32 bits (COUNTER, NTP-UTC-32)
local function ts_value(ctx, item, off, ts_type, limit)
    local n = implied(ctx, item, ts_lens, ts_type, "TS type")
    need(ctx, item, off, n, limit, "TS value")
    local r = ctx.tvb:range(off, n)
    item:add(F["t.value"], r)
    if ts_type ~= 2 then -- NTP seconds since 1900 (NTP-UTC-32: 32 bits)
        local secs = r:range(0, 4):uint() - 2208988800
        local frac = n == 8 and r:range(4, 4):uint() or 0
        item:add(F["t.time"], r, NSTime.new(secs, math.floor(frac / 4294967296 * 1e9)))
    end
    return off + n
end

local function kv_data(ctx, item, off, kv, limit)
    if kv == 1 then
        return (lv(ctx, item, off, 1, "kv.spi_len", "kv.spi", limit, "SPI"))
    elseif kv == 2 then
        off = lv(ctx, item, off, 1, nil, "kv.vf", limit, "Valid From")
        return (lv(ctx, item, off, 1, nil, "kv.vt", limit, "Valid To"))
    elseif kv ~= 0 then
        item:add_proto_expert_info(ex_unknown, "KV type unknown")
        ctx.malformed = true
        error(Malformed)
    end
    return off
end

-- ------------------------------------------------------------ payloads

P[1] = function(ctx, item, off, limit) -- KEMAC
    local tvb = ctx.tvb
    local nxt = head(ctx, item, off, 4, limit, "KEMAC")
    local alg = tvb:range(off + 1, 1):uint()
    local n = tvb:range(off + 2, 2):uint()
    item:add(F["kemac.encr_alg"], tvb:range(off + 1, 1))
    item:add(F["kemac.encr_data_len"], tvb:range(off + 2, 2))
    need(ctx, item, off + 4, n + 1, limit, "Encr data")
    if n > 0 then
        local d = item:add(F["kemac.encr_data"], tvb:range(off + 4, n))
        if alg == 0 then -- NULL: the Key data chain in clear (a TP's template)
            if chain(ctx, d, off + 4, 20, off + 4 + n) ~= off + 4 + n then
                d:add_proto_expert_info(ex_malformed, "bytes after the last Key data")
            end
        end
    end
    local ma = tvb:range(off + 4 + n, 1):uint()
    item:add(F["kemac.mac_alg"], tvb:range(off + 4 + n, 1))
    local ml = implied(ctx, item, mac_lens, ma, "MAC alg")
    need(ctx, item, off + 5 + n, ml, limit, "KEMAC MAC")
    if ml > 0 then item:add(F["kemac.mac"], tvb:range(off + 5 + n, ml)) end
    return off + 5 + n + ml, nxt, name_of(encr_algs, alg) .. ", " .. n .. " bytes"
end

P[20] = function(ctx, item, off, limit) -- Key data
    local tvb = ctx.tvb
    local nxt = head(ctx, item, off, 2, limit, "Key data")
    local tk = tvb:range(off + 1, 1):uint()
    local kt, kv = math.floor(tk / 16), tk % 16
    item:add(F["key.type"], tvb:range(off + 1, 1))
    item:add(F["key.kv"], tvb:range(off + 1, 1))
    off = lv(ctx, item, off + 2, 2, "key.len", "key.data", limit, "Key data")
    if kt == 1 or kt == 3 or kt == 5 then
        off = lv(ctx, item, off, 2, "key.salt_len", "key.salt", limit, "Salt data")
    end
    return kv_data(ctx, item, off, kv, limit), nxt, name_of(key_types, kt)
end

P[2] = function(ctx, item, off, limit) -- PKE: C (2 bits) and a 14-bit length
    local tvb = ctx.tvb
    local nxt = head(ctx, item, off, 3, limit, "PKE")
    item:add(F["pke.c"], tvb:range(off + 1, 2))
    item:add(F["pke.len"], tvb:range(off + 1, 2))
    local n = tvb:range(off + 1, 2):uint() % 16384
    need(ctx, item, off + 3, n, limit, "PKE data")
    if n > 0 then item:add(F["pke.data"], tvb:range(off + 3, n)) end
    return off + 3 + n, nxt
end

P[3] = function(ctx, item, off, limit) -- DH
    local tvb = ctx.tvb
    local nxt = head(ctx, item, off, 2, limit, "DH")
    local g = tvb:range(off + 1, 1):uint()
    item:add(F["dh.group"], tvb:range(off + 1, 1))
    local n = implied(ctx, item, dh_lens, g, "DH-Group")
    need(ctx, item, off + 2, n + 1, limit, "DH-value")
    item:add(F["dh.value"], tvb:range(off + 2, n))
    item:add(F["dh.kv"], tvb:range(off + 2 + n, 1))
    local kv = tvb:range(off + 2 + n, 1):uint() % 16
    return kv_data(ctx, item, off + 3 + n, kv, limit), nxt, name_of(dh_groups, g)
end

P[4] = function(ctx, item, off, limit) -- SIGN: no Next payload, always last
    local tvb = ctx.tvb
    need(ctx, item, off, 2, limit, "SIGN header")
    item:add(F["sign.type"], tvb:range(off, 2))
    item:add(F["sign.len"], tvb:range(off, 2))
    local n = tvb:range(off, 2):uint() % 4096
    need(ctx, item, off + 2, n, limit, "Signature")
    if n > 0 then item:add(F["sign.data"], tvb:range(off + 2, n)) end
    return off + 2 + n, 0
end

P[5] = function(ctx, item, off, limit) -- T
    local nxt = head(ctx, item, off, 2, limit, "T")
    local tt = ctx.tvb:range(off + 1, 1):uint()
    item:add(F["t.ts_type"], ctx.tvb:range(off + 1, 1))
    return ts_value(ctx, item, off + 2, tt, limit), nxt, name_of(ts_types, tt)
end

P[13] = function(ctx, item, off, limit) -- TR
    local nxt = head(ctx, item, off, 3, limit, "TR")
    local role = ctx.tvb:range(off + 1, 1):uint()
    local tt = ctx.tvb:range(off + 2, 1):uint()
    item:add(F["tr.role"], ctx.tvb:range(off + 1, 1))
    item:add(F["t.ts_type"], ctx.tvb:range(off + 2, 1))
    return ts_value(ctx, item, off + 3, tt, limit), nxt, name_of(ts_roles, role)
end

-- Next, one type byte (field tf, names tab), a 16-bit length and data:
-- ID, CERT, General Ext.
local function typed_data(what, tf, tab, lf, df)
    return function(ctx, item, off, limit)
        local nxt = head(ctx, item, off, 2, limit, what)
        local t = ctx.tvb:range(off + 1, 1):uint()
        item:add(F[tf], ctx.tvb:range(off + 1, 1))
        local after, n = lv(ctx, item, off + 2, 2, lf, df, limit, what .. " data")
        local text = what == "ID" and n > 0 and printable(ctx.tvb:range(off + 4, n))
        return after, nxt, text or name_of(tab, t)
    end
end
P[6] = typed_data("ID", "id.type", id_types, "id.len", "id.data")
P[7] = typed_data("CERT", "cert.type", cert_types, "cert.len", "cert.data")
P[21] = typed_data("General Ext.", "ext.type", genext_types, "ext.len", "ext.data")

-- Next, an algorithm byte (field af, names tab) and a value whose length
-- the algorithm implies (lens): CHASH, V.
local function alg_value(what, af, tab, lens, vf)
    return function(ctx, item, off, limit)
        local nxt = head(ctx, item, off, 2, limit, what)
        local a = ctx.tvb:range(off + 1, 1):uint()
        item:add(F[af], ctx.tvb:range(off + 1, 1))
        local n = implied(ctx, item, lens, a, what .. " algorithm")
        need(ctx, item, off + 2, n, limit, what .. " value")
        if n > 0 then item:add(F[vf], ctx.tvb:range(off + 2, n)) end
        return off + 2 + n, nxt, name_of(tab, a)
    end
end
P[8] = alg_value("CHASH", "chash.func", hash_funcs, hash_lens, "chash.hash")
P[9] = alg_value("V", "v.alg", mac_algs, mac_lens, "v.mac")

P[10] = function(ctx, item, off, limit) -- SP
    local tvb = ctx.tvb
    local nxt = head(ctx, item, off, 3, limit, "SP")
    item:add(F["sp.policy_no"], tvb:range(off + 1, 1))
    item:add(F["sp.prot_type"], tvb:range(off + 2, 1))
    local e = lv(ctx, item, off + 3, 2, "sp.param_len", nil, limit, "Policy params")
    local p = off + 5
    while p < e do -- Type (1), Length (1), Value
        need(ctx, item, p, 2, e, "Policy param")
        local pt, pl = tvb:range(p, 1):uint(), tvb:range(p + 1, 1):uint()
        need(ctx, item, p + 2, pl, e, "Policy param value")
        local t = item:add(tvb:range(p, 2 + pl),
            string.format("%s (%d)", name_of(srtp_params, pt), pt))
        t:add(F["sp.param.type"], tvb:range(p, 1))
        lv(ctx, t, p + 1, 1, "sp.param.len", "sp.param.value", e, "Policy param value")
        if pl > 0 and pl <= 4 then t:append_text(" = " .. tvb:range(p + 2, pl):uint()) end
        p = p + 2 + pl
    end
    return e, nxt, "policy " .. tvb:range(off + 1, 1):uint()
end

P[11] = function(ctx, item, off, limit) -- RAND
    local nxt = head(ctx, item, off, 1, limit, "RAND")
    local after, n = lv(ctx, item, off + 1, 1, "rand.len", "rand.data", limit, "RAND")
    return after, nxt, n .. " bytes"
end

P[12] = function(ctx, item, off, limit) -- ERR
    local nxt = head(ctx, item, off, 4, limit, "ERR")
    local no = ctx.tvb:range(off + 1, 1):uint()
    item:add(F["err.no"], ctx.tvb:range(off + 1, 1))
    item:add(F["err.reserved"], ctx.tvb:range(off + 2, 2))
    return off + 4, nxt, string.format("%d (%s)", no, name_of(error_nos, no))
end

P[14] = function(ctx, item, off, limit) -- IDR
    local tvb = ctx.tvb
    local nxt = head(ctx, item, off, 3, limit, "IDR")
    local role = tvb:range(off + 1, 1):uint()
    item:add(F["idr.role"], tvb:range(off + 1, 1))
    item:add(F["idr.type"], tvb:range(off + 2, 1))
    local after, n = lv(ctx, item, off + 3, 2, "idr.len", "idr.data", limit, "ID Data")
    local text = n > 0 and printable(tvb:range(off + 5, n))
    if text then item:add(F["idr.text"], tvb:range(off + 5, n), text):set_generated() end
    return after, nxt, name_of(id_roles, role) .. (text and (" " .. text) or "")
end

P[15] = function(ctx, item, off, limit) -- RANDR
    local nxt = head(ctx, item, off, 2, limit, "RANDR")
    local role = ctx.tvb:range(off + 1, 1):uint()
    item:add(F["randr.role"], ctx.tvb:range(off + 1, 1))
    local after = lv(ctx, item, off + 2, 1, "randr.len", "randr.data", limit, "RAND")
    return after, nxt, name_of(rand_roles, role)
end

-- TP (16) and TICKET (17): the common part, then for TICKET Ticket Data
-- (opaque: only its resolver reads it, RFC 6043 §6.10) and Initiator Data
local function tp_like(is_ticket)
    return function(ctx, item, off, limit)
        local tvb = ctx.tvb
        local nxt = head(ctx, item, off, 10, limit, "TP")
        local ttype = tvb:range(off + 1, 2):uint()
        item:add(F["tp.ticket_type"], tvb:range(off + 1, 2))
        item:add(F["tp.subtype"], tvb:range(off + 3, 1))
        item:add(F["tp.version"], tvb:range(off + 4, 1))
        item:add(F["tp.prf_func"], tvb:range(off + 5, 1))
        local letters = ""
        for _, f in ipairs(flag_bits) do
            if bit32.band(tvb:range(off + f[2], 1):uint(), f[3]) ~= 0 then
                letters = letters .. f[1]
            end
        end
        local fl = item:add(F["tp.flags"], tvb:range(off + 5, 3), letters)
        for _, f in ipairs(flag_bits) do
            fl:add(F["tp.flag." .. f[1]], tvb:range(off + f[2], 1))
        end
        fl:add(F["tp.res"], tvb:range(off + 7, 1))
        local after, n = lv(ctx, item, off + 8, 2, "tp.data_len", nil, limit, "TP Data")
        nested(ctx, item, "tp.data", off + 10, n)
        if is_ticket then
            after = lv(ctx, item, after, 2, "ticket.data_len", "ticket.data", limit,
                "Ticket Data")
            local s = after
            after, n = lv(ctx, item, s, 2, "ticket.init_len", nil, limit, "Initiator Data")
            nested(ctx, item, "ticket.init", s + 2, n)
        end
        return after, nxt, name_of(ticket_types, ttype) .. ", flags " .. letters
    end
end
P[16] = tp_like(false)
P[17] = tp_like(true)

P[26] = function(ctx, item, off, limit) -- SAKKE (RFC 6509)
    local nxt = head(ctx, item, off, 3, limit, "SAKKE")
    item:add(F["sakke.params"], ctx.tvb:range(off + 1, 1))
    item:add(F["sakke.id_scheme"], ctx.tvb:range(off + 2, 1))
    return (lv(ctx, item, off + 3, 2, "sakke.len", "sakke.data", limit, "SAKKE data")), nxt
end

-- ------------------------------------------------------------ message

-- HDR (RFC 3830 §6.1): 10 bytes, then the CS ID map info whose length
-- follows from #CS and the map type (SRTP-ID: 9 bytes per CS; GENERIC-ID:
-- RFC 6043 §6.1.1 blocks; Empty: none). Returns the offset after it.
local function hdr(ctx, tree, limit)
    local tvb = ctx.tvb
    need(ctx, tree, 0, 10, limit, "HDR")
    local h = tree:add(F["hdr"], tvb:range(0, 10))
    h:add(F["hdr.version"], tvb:range(0, 1))
    h:add(F["hdr.data_type"], tvb:range(1, 1))
    h:add(F["hdr.next_payload"], tvb:range(2, 1))
    h:add(F["hdr.v"], tvb:range(3, 1))
    h:add(F["hdr.prf_func"], tvb:range(3, 1))
    h:add(F["hdr.csb_id"], tvb:range(4, 4))
    h:add(F["hdr.n_cs"], tvb:range(8, 1))
    h:add(F["hdr.map_type"], tvb:range(9, 1))
    local ncs, mt, off = tvb:range(8, 1):uint(), tvb:range(9, 1):uint(), 10
    if tvb:range(0, 1):uint() ~= 1 then
        h:add_proto_expert_info(ex_unknown, "MIKEY version is not 1")
    end
    for _ = 1, ncs do
        if mt == 0 then
            need(ctx, h, off, 9, limit, "SRTP-ID entry")
            local e = h:add(F["srtp_id"], tvb:range(off, 9))
            e:add(F["srtp_id.policy_no"], tvb:range(off, 1))
            e:add(F["srtp_id.ssrc"], tvb:range(off + 1, 4))
            e:add(F["srtp_id.roc"], tvb:range(off + 5, 4))
            off = off + 9
        elseif mt == 2 then
            local s = off
            need(ctx, h, off, 3, limit, "GENERIC-ID block")
            local e = h:add(F["cs"], tvb:range(off, 3))
            e:add(F["cs.id"], tvb:range(off, 1))
            e:add(F["cs.prot_type"], tvb:range(off + 1, 1))
            e:add(F["cs.s"], tvb:range(off + 2, 1))
            e:add(F["cs.n_p"], tvb:range(off + 2, 1))
            local np = tvb:range(off + 2, 1):uint() % 128
            need(ctx, e, off + 3, np + 2, limit, "GENERIC-ID policies")
            for i = 0, np - 1 do
                e:add(F["cs.policy_no"], tvb:range(off + 3 + i, 1))
            end
            off = off + 3 + np
            local sdl = tvb:range(off, 2):uint()
            e:add(F["cs.session_data_len"], tvb:range(off, 2))
            need(ctx, e, off + 2, sdl + 1, limit, "GENERIC-ID Session Data")
            if sdl > 0 then
                local sd = e:add(F["cs.session_data"], tvb:range(off + 2, sdl))
                if sdl == 4 or sdl == 10 then -- SRTP: SSRC [ROC SEQ]
                    sd:add(F["cs.ssrc"], tvb:range(off + 2, 4))
                    if sdl == 10 then
                        sd:add(F["cs.roc"], tvb:range(off + 6, 4))
                        sd:add(F["cs.seq"], tvb:range(off + 10, 2))
                    end
                end
            end
            off = off + 2 + sdl
            local sl = tvb:range(off, 1):uint()
            e:add(F["cs.spi_len"], tvb:range(off, 1))
            need(ctx, e, off + 1, sl, limit, "GENERIC-ID SPI")
            if sl > 0 then e:add(F["cs.spi"], tvb:range(off + 1, sl)) end
            off = off + 1 + sl
            e:set_len(off - s)
        elseif mt ~= 1 then
            h:add_proto_expert_info(ex_unknown, "CS ID map type unknown")
            ctx.malformed = true
            error(Malformed)
        end
    end
    if off > 10 then
        h:add(F["hdr.map_info"], tvb:range(10, off - 10))
    end
    h:set_len(off)
    return off, tvb:range(2, 1):uint()
end

local function dissect_message(tvb, pinfo, tree, how, rt)
    local ctx = { tvb = tvb, malformed = false }
    local len = tvb:len()
    local root = tree:add(mikeyt, tvb:range(0, len))
    root:add(F["encoding"], how):set_generated()
    if rt then
        root:add(F["requesttype"], rt):set_generated()
    end
    local ok, err = pcall(function()
        local off, first = hdr(ctx, root, len)
        off = chain(ctx, root, off, first, len)
        if off < len then
            root:add(tvb:range(off, len - off), "[trailing bytes]")
                :add_proto_expert_info(ex_malformed, string.format(
                    "%d bytes after the last payload", len - off))
            ctx.malformed = true
        end
    end)
    if not ok and err ~= Malformed then
        error(err)
    end
    local dt = len >= 2 and tvb:range(1, 1):uint() or nil
    local name = dt and name_of(data_types, dt) or "?"
    root:append_text(", " .. name)
    local info = "MIKEY " .. name
    if ctx.malformed then
        info = info .. " [Malformed]"
    end
    pinfo.cols.protocol:set("MIKEY-TICKET")
    pinfo.cols.info:append(" " .. info)
    return len
end

-- The requesttype of the annex URI this body belongs to (request, or the
-- request a response answers), if the HTTP dissector saw it.
local function requesttype()
    local uris = { f_req_uri() }
    if #uris == 0 then uris = { f_resp_uri() } end
    local u = uris[#uris]
    if not u then return nil end
    return tostring(u.value):match("[?&]requesttype=([^&]*)")
end

-- An HTTP body of application/mikey: binary MIKEY (starts with version 1)
-- or base64 (annex X1.1), white space and line breaks allowed.
function mikeyt.dissector(tvb, pinfo, tree)
    local len = tvb:len()
    if len == 0 then
        return 0
    end
    local rt = requesttype()
    if tvb:range(0, 1):uint() == 1 then
        return dissect_message(tvb, pinfo, tree, "binary", rt)
    end
    local text = tvb:raw():gsub("%s", "")
    if #text == 0 or #text % 4 ~= 0 or not text:match("^[A-Za-z0-9+/]+=?=?$") then
        local item = tree:add(mikeyt, tvb:range(0, len))
        item:add_proto_expert_info(ex_malformed, "body is neither a MIKEY message nor base64")
        pinfo.cols.info:append(" MIKEY [not base64]")
        return len
    end
    local bytes = ByteArray.new(text, true):base64_decode()
    local dtvb = bytes:tvb("MIKEY (base64-decoded)")
    dissect_message(dtvb, pinfo, tree, "base64", rt)
    return len
end

DissectorTable.get("media_type"):add("application/mikey", mikeyt)
