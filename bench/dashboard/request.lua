-- The wrk script of bench/dashboard.sh: a POST /graphql per request, for a
-- random line of a file, and one machine-readable line when the run ends.
--
--   WRK_LINES   file with one entry per line: an access token (dashboard) or
--               "<tenant id> <cursor>" (admin scenarios)
--   WRK_MODE    dashboard | admin-tenants | admin-tenant
--   WRK_AUTH    the admin's access token (admin modes)
--   WRK_FIRST   page size of the lists (default 50)
--   WRK_LABEL   name of the run, repeated in the result line
--
-- The server trusts one proxy (--trusted-proxies 1): every request carries an
-- X-Forwarded-For (a fixed address; nothing measured here has a budget).
-- A response whose body holds "errors" is counted as graphql_errors (HTTP 200
-- with a GraphQL error is not an error status for wrk).
--
-- The result line:
--   wrk-result label=L requests=N duration_s=S rps=R p50_ms=X p99_ms=Y non2xx=N socket_errors=N graphql_errors=N

local mode = os.getenv("WRK_MODE") or "dashboard"
local first = tonumber(os.getenv("WRK_FIRST") or "50")
local admin_auth = os.getenv("WRK_AUTH")
local lines = {}
local graphql_errors = 0
local threads = {}

local members = "members(first: " .. first .. ") { edges { node { role user { email } } } }"
local keys = "apiKeys(first: " .. first .. ") { edges { node { id name displayPrefix state scopes environment lastUsedAt } } }"
local dashboard = '{"query":"{ tenant { ' .. members .. " " .. keys .. ' } }"}'

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_number", #threads)
end

function init(args)
  for line in io.lines(os.getenv("WRK_LINES")) do
    if line ~= "" then table.insert(lines, line) end
  end
  math.randomseed(os.time() * 100 + (thread_number or 0))
  wrk.method = "POST"
end

function request()
  local line = lines[math.random(#lines)]
  -- wrk.format takes these headers instead of wrk.headers, not in addition.
  local headers = {
    ["Content-Type"] = "application/json",
    ["X-Forwarded-For"] = "10.255.0.1",
  }
  local body
  if mode == "dashboard" then
    headers["Authorization"] = "Bearer " .. line
    body = dashboard
  else
    headers["Authorization"] = admin_auth
    local id, cursor = line:match("^(%S+) (%S+)$")
    if mode == "admin-tenants" then
      body = '{"query":"{ admin { tenants(first: ' .. first .. ', after: \\"' .. cursor ..
        '\\") { edges { node { id name slug status planKey createdAt memberCount } } } } }"}'
    else
      body = '{"query":"{ admin { tenant(id: \\"' .. id .. '\\") { id name slug status planKey ' ..
        members .. ' } } }"}'
    end
  end
  return wrk.format(nil, nil, headers, body)
end

function response(status, headers, body)
  if body:find('"errors"', 1, true) then
    graphql_errors = graphql_errors + 1
  end
end

function done(summary, latency, requests)
  local gql = 0
  for _, thread in ipairs(threads) do
    gql = gql + (thread:get("graphql_errors") or 0)
  end
  local e = summary.errors
  local seconds = summary.duration / 1e6
  io.write(string.format(
    "wrk-result label=%s requests=%d duration_s=%.3f rps=%.1f p50_ms=%.3f p99_ms=%.3f non2xx=%d socket_errors=%d graphql_errors=%d\n",
    os.getenv("WRK_LABEL") or "run",
    summary.requests,
    seconds,
    summary.requests / seconds,
    latency:percentile(50) / 1000,
    latency:percentile(99) / 1000,
    e.status,
    e.connect + e.read + e.write + e.timeout,
    gql))
end
