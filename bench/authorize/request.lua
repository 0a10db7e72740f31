-- The wrk script of bench/authorize.sh: one fixed request, taken from the
-- environment, and one machine-readable line when the run ends.
--
--   WRK_METHOD  GET or POST (default GET)
--   WRK_BODY    request body; when set, sent as application/json
--   WRK_AUTH    value of the Authorization header (e.g. "Bearer tg_live_...")
--   WRK_LABEL   name of the run, repeated in the result line
--
-- The result line:
--   wrk-result label=L requests=N duration_s=S rps=R p50_ms=X p99_ms=Y non2xx=N socket_errors=N
-- non2xx is wrk's summary.errors.status: responses with a status above 399
-- (wrk does not count 3xx; none of the measured paths redirects).
-- socket_errors adds connect, read, write errors and timeouts.

wrk.method = os.getenv("WRK_METHOD") or "GET"

local body = os.getenv("WRK_BODY")
if body ~= nil and body ~= "" then
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
end

local auth = os.getenv("WRK_AUTH")
if auth ~= nil and auth ~= "" then
  wrk.headers["Authorization"] = auth
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
