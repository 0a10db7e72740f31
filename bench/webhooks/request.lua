-- The wrk script of bench/webhooks.sh: POSTs the signed events of WRK_EVENTS
-- (lines "<Stripe-Signature>\t<body>") to /webhooks/stripe, each thread its own
-- share of the lines, cycling when they run out (a redelivery); one
-- machine-readable line when the run ends (as bench/authorize/request.lua).

local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local lines = {}
local next_line = 1

function init(args)
  local path = os.getenv("WRK_EVENTS")
  local n = 0
  for line in io.lines(path) do
    if n % counter_total() == id then
      local tab = line:find("\t", 1, true)
      table.insert(lines, { line:sub(1, tab - 1), line:sub(tab + 1) })
    end
    n = n + 1
  end
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

function counter_total()
  return tonumber(os.getenv("WRK_THREADS") or "2")
end

function request()
  local entry = lines[next_line]
  next_line = next_line + 1
  if next_line > #lines then
    next_line = 1
  end
  wrk.headers["Stripe-Signature"] = entry[1]
  return wrk.format(nil, nil, nil, entry[2])
end

function done(summary, latency, requests)
  local e = summary.errors
  local seconds = summary.duration / 1e6
  io.write(string.format(
    "wrk-result label=%s requests=%d duration_s=%.3f rps=%.1f p50_ms=%.3f p99_ms=%.3f non2xx=%d socket_errors=%d\n",
    os.getenv("WRK_LABEL") or "run",
    summary.requests,
    seconds,
    summary.requests / seconds,
    latency:percentile(50) / 1000,
    latency:percentile(99) / 1000,
    e.status,
    e.connect + e.read + e.write + e.timeout))
end
