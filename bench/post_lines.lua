-- post_lines.lua - wrk script of bench/http_bench.sh: POST pre-generated
-- MIKEY messages (base64, one per line of a file) to the KMS mount, each at
-- most once, and count every answer that is not what a KMS gives to a
-- valid request.
--
--   wrk -t T -c C -d 5s -s post_lines.lua http://127.0.0.1:PORT -- \
--       file=PATH threads=T [rt=ticketrequest] [path=/keymanagement] \
--       [mode=once|wrap] [expect=13|18|any] [count=N] [donefile=PREFIX]
--
-- file     the request bodies, one base64 MIKEY message per line
-- threads  wrk's -t (each thread takes a disjoint contiguous slice of the
--          lines: thread i of T gets lines [i*N/T, (i+1)*N/T))
-- rt       the requesttype URI parameter (default ticketrequest)
-- path     the mount (default /keymanagement)
-- mode     once (default): a line is sent at most once; when a thread's
--          slice is used up it stops (the summary says "exhausted", and the
--          req/s of that run is then too low: give more lines). wrap: start
--          the slice again (null responder runs, memory runs).
-- expect   MIKEY data type of a good 200 answer: 13 REQUEST_RESP,
--          18 RESOLVE_RESP, any (null responder: only the status counts).
--          A 200 carrying another data type (6: MIKEY Error, e.g. a replay
--          or a stale T) is counted as an error too.
-- count    stop each thread after its share of N answers (memory runs);
--          the thread then creates DONEFILE.<id> so that the caller can
--          stop wrk (SIGINT) without waiting for -d.
--
-- Printed at the end (one line each, parsed by http_bench.sh):
--   post_lines: answers=A ok=K bad=B sent=S lines=L exhausted=yes|no
--   post_lines: bad status=CODE n=COUNT        (one per kind)
--   post_lines: bad mikey_type=DT n=COUNT

local thread_no = 0
local threads = {}

function setup(thread)
    thread:set("id", thread_no)
    thread_no = thread_no + 1
    table.insert(threads, thread)
end

local args = {}
local lines = {}
local next_i = 1
local path = "/keymanagement"
local expect = nil
local mode = "once"
local quota = nil
local headers = { ["Content-Type"] = "application/mikey" }
-- per-thread counters, read by done() through thread:get
answers, ok, sent, exhausted = 0, 0, 0, 0
bad = ""          -- "status=404:3 mikey_type=6:2 " (thread:get copies strings)
local bad_counts = {}
local stopped = false
local done_prefix = nil

local function parse_args(a)
    for _, kv in ipairs(a) do
        local k, v = string.match(kv, "^([%w_]+)=(.*)$")
        if k == nil then
            error("post_lines.lua: argument '" .. kv .. "' is not key=value")
        end
        args[k] = v
    end
end

function init(a)
    parse_args(a)
    local id = wrk.thread:get("id")
    local nthreads = tonumber(args.threads or "")
    if nthreads == nil or nthreads < 1 then
        error("post_lines.lua: threads=T (wrk's -t) is required")
    end
    if args.file == nil then
        error("post_lines.lua: file=PATH is required")
    end
    path = (args.path or "/keymanagement") .. "?requesttype=" ..
        (args.rt or "ticketrequest")
    mode = args.mode or "once"
    if args.expect ~= nil and args.expect ~= "any" then
        expect = tonumber(args.expect)
    end
    done_prefix = args.donefile
    -- count the lines, then keep only this thread's slice
    local total = 0
    for _ in io.lines(args.file) do total = total + 1 end
    local first = math.floor(id * total / nthreads) + 1
    local last = math.floor((id + 1) * total / nthreads)
    local n = 0
    for l in io.lines(args.file) do
        n = n + 1
        if n > last then break end
        if n >= first and #l > 0 then
            table.insert(lines, l)
        end
    end
    if args.count ~= nil then
        local c = tonumber(args.count)
        quota = math.floor((id + 1) * c / nthreads) - math.floor(id * c / nthreads)
    end
    if #lines == 0 then
        error("post_lines.lua: thread " .. id .. " has no lines (file " ..
              args.file .. " has " .. total .. ")")
    end
end

local function stop_thread()
    if not stopped then
        stopped = true
        if done_prefix ~= nil then
            local f = io.open(done_prefix .. "." .. wrk.thread:get("id"), "w")
            if f ~= nil then f:close() end
        end
        wrk.thread:stop()
    end
end

-- wrk calls request() once in thread 0 before the run to check that the
-- script makes valid requests (script_verify_request): that request is
-- never sent, so it must not use up a line.
local verified = false

function request()
    if not verified and wrk.thread:get("id") == 0 then
        verified = true
        return wrk.format("POST", path, headers, lines[1])
    end
    if next_i > #lines then
        if mode == "wrap" then
            next_i = 1
        else
            -- slice used up: stop; what is sent now is a replay whose answer
            -- is not counted (see response)
            exhausted = exhausted + 1
            stop_thread()
            return wrk.format("POST", path, headers, lines[#lines])
        end
    end
    local body = lines[next_i]
    next_i = next_i + 1
    sent = sent + 1
    return wrk.format("POST", path, headers, body)
end

local b64 = {}
do
    local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    for i = 1, 64 do b64[string.byte(alphabet, i)] = i - 1 end
end

-- The MIKEY data type: second byte of the decoded body (HDR: version,
-- data type, ...; RFC 3830 §6.1). nil if the body does not start with
-- base64.
local function mikey_type(body)
    if body == nil or #body < 3 then return nil end
    local a, b, c = b64[string.byte(body, 1)], b64[string.byte(body, 2)],
        b64[string.byte(body, 3)]
    if a == nil or b == nil or c == nil then return nil end
    -- bits 8..15 of the 24-bit group
    return (b % 16) * 16 + math.floor(c / 4)
end

local function count_bad(kind)
    bad_counts[kind] = (bad_counts[kind] or 0) + 1
    local parts = {}
    for k, v in pairs(bad_counts) do
        table.insert(parts, k .. ":" .. v)
    end
    bad = table.concat(parts, " ")
end

function response(status, hdrs, body)
    if exhausted > 0 and answers >= sent then
        return -- the answer to a replayed tail request
    end
    answers = answers + 1
    if status ~= 200 then
        count_bad("status=" .. status)
    elseif expect ~= nil then
        local dt = mikey_type(body)
        if dt ~= expect then
            count_bad("mikey_type=" .. tostring(dt))
        else
            ok = ok + 1
        end
    else
        ok = ok + 1
    end
    if quota ~= nil and answers >= quota then
        stop_thread()
    end
end

function done(summary, latency, requests)
    local a, k, s, e = 0, 0, 0, 0
    local bads = {}
    for _, t in ipairs(threads) do
        a = a + t:get("answers")
        k = k + t:get("ok")
        s = s + t:get("sent")
        e = e + t:get("exhausted")
        for kind, n in string.gmatch(t:get("bad") or "", "(%S+):(%d+)") do
            bads[kind] = (bads[kind] or 0) + tonumber(n)
        end
    end
    io.write(string.format(
        "post_lines: answers=%d ok=%d bad=%d sent=%d exhausted=%s\n",
        a, k, a - k, s, e > 0 and "yes" or "no"))
    for kind, n in pairs(bads) do
        local key, val = string.match(kind, "^(%w+_?%w*)=(.*)$")
        io.write(string.format("post_lines: bad %s=%s n=%d\n", key, val, n))
    end
end
