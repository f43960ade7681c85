-- mikeykms-errors.lua - lighttpd's own 5xx in front of kmsd, as the annex
-- and doc/profile.md §2 ask of an unavailable KMS (profile §9.48).
--
-- lighttpd.conf runs it at the start of every response
-- (magnet.attract-response-start-to; mod_magnet, Debian package
-- lighttpd-modules-lua, lighttpd 1.4.56 or later). When kmsd cannot
-- answer, lighttpd answers by itself: 503 with an HTML page and no
-- Retry-After (no kmsd on the socket: not started yet, being restarted,
-- down), 502 or 500 (a request in flight when kmsd died). The annex's
-- table (X1.2) has 503 for "the KMS is aware that it has erred" and the
-- UE should repeat the request; profile §2 adds Retry-After and one
-- text/plain line. So each of these becomes 503, Retry-After 5 (keep it
-- equal to retry_after in kms.conf), "service unavailable".
--
-- kmsd never answers 500 or 502 (profile §2: a bug is 503), and its own
-- 503 always carries Retry-After, so a 503 with Retry-After is kmsd's and
-- passes unchanged, and so does every other status (kmsd's 504 of GBA,
-- lighttpd's 400, 403, 413, 505).

local r = lighty.r
local status = r.req_item.http_status
if status ~= 500 and status ~= 502 and status ~= 503 then
    return 0
end
if status == 503 and r.resp_header["Retry-After"] then
    return 0
end
r.resp_header["Retry-After"] = "5"
r.resp_header["Content-Type"] = "text/plain"
r.resp_body.set({ "service unavailable\n" })
return 503
