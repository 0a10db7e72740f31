-- The wrk script of bench/usage.sh's ingest run: every request POSTs one
-- batch of WRK_BATCH (1,000) events to /v1/usage with the next API key of
-- WRK_KEYS (one secret a line, round robin), each event with an idempotency
-- key never sent before (run, thread, request, index), a metric from
-- WRK_METRICS (comma-separated, in turn) and a time in the last hour. Counts
-- the events answered recorded / duplicate / refused, and ends with one
-- machine-readable line (as bench/authorize/request.lua, plus those counts).

local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local keys = {}
local metrics = {}
local batch = 1000
local run = "run"
local n = 0
recorded, duplicates, refused, bad = 0, 0, 0, 0

function init(args)
  for line in io.lines(os.getenv("WRK_KEYS")) do
    if line ~= "" then table.insert(keys, "Bearer " .. line) end
  end
  for m in string.gmatch(os.getenv("WRK_METRICS") or "api_calls", "[^,]+") do
    table.insert(metrics, m)
  end
  batch = tonumber(os.getenv("WRK_BATCH") or "1000")
  run = os.getenv("WRK_RUN") or "run"
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  n = n + 1
  local now = os.time()
  local stamps = {}
  for s = 0, 59 do
    stamps[s] = os.date("!%Y-%m-%dT%H:%M:%SZ", now - 60 * s - (n % 60))
  end
  local prefix = run .. "-" .. id .. "-" .. n .. "-"
  local parts = {}
  for i = 1, batch do
    local metric = metrics[(i % #metrics) + 1]
    local props = ""
    if metric == "active_users" then
      props = ',"properties":{"user":"u' .. ((n * 7 + i) % 500) .. '"}'
    end
    parts[i] = '{"metric":"' .. metric .. '","quantity":' .. (1 + i % 5) ..
      ',"occurredAt":"' .. stamps[i % 60] .. '","idempotencyKey":"' .. prefix .. i .. '"' ..
      props .. '}'
  end
  wrk.headers["Authorization"] = keys[((n + id) % #keys) + 1]
  return wrk.format(nil, nil, nil, '{"events":[' .. table.concat(parts, ",") .. ']}')
end

function response(status, headers, body)
  local r = tonumber(string.match(body, '"recorded":(%d+)'))
  if status ~= 200 or r == nil then
    bad = bad + 1
    return
  end
  recorded = recorded + r
  duplicates = duplicates + tonumber(string.match(body, '"duplicates":(%d+)') or "0")
  refused = refused + tonumber(string.match(body, '"refused":(%d+)') or "0")
end

function done(summary, latency, requests)
  local e = summary.errors
  local seconds = summary.duration / 1e6
  local rec, dup, ref, b = 0, 0, 0, 0
  for _, t in ipairs(threads) do
    rec = rec + t:get("recorded")
    dup = dup + t:get("duplicates")
    ref = ref + t:get("refused")
    b = b + t:get("bad")
  end
  io.write(string.format(
    "wrk-result label=%s requests=%d duration_s=%.3f rps=%.1f p50_ms=%.3f p99_ms=%.3f non2xx=%d socket_errors=%d recorded=%d duplicates=%d refused=%d bad=%d events_per_s=%.0f\n",
    os.getenv("WRK_LABEL") or "run",
    summary.requests,
    seconds,
    summary.requests / seconds,
    latency:percentile(50) / 1000,
    latency:percentile(99) / 1000,
    e.status,
    e.connect + e.read + e.write + e.timeout,
    rec, dup, ref, b, rec / seconds))
end
