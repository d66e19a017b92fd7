-- wrk script: replays the requests listed in the file named by BENCH_REQUESTS, one per line:
--   METHOD <tab> PATH <tab> BEARER-TOKEN <tab> BODY (may be empty)
-- A token written `cookie:<name>=<value>` is sent as a Cookie instead (a page's browser session).
-- Each thread starts at its own share of the list and walks it in order, wrapping around.
-- BENCH_RATE (requests/s for the whole run, optional) paces connections with random
-- (exponential) gaps, for latency at a given load rather than at saturation.
-- At the end it prints one JSON line: requests, seconds, rps, p50/p99 (ms), errors, non-2xx.


local lines = {}

function load_requests()
  local formatted = {}
  local f = assert(io.open(os.getenv("BENCH_REQUESTS"), "r"))
  for line in f:lines() do
    local method, path, token, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t?(.*)$")
    if method then
      local headers
      if token:sub(1, 7) == "cookie:" then
        headers = { ["Cookie"] = token:sub(8), ["Accept"] = "text/html" }
      else
        headers = { ["Authorization"] = "Bearer " .. token, ["Accept"] = "application/json" }
      end
      if body ~= nil and body ~= "" then headers["Content-Type"] = "application/json" else body = nil end
      formatted[#formatted + 1] = wrk.format(method, path, headers, body)
    end
  end
  f:close()
  assert(#formatted > 0, "no requests in " .. os.getenv("BENCH_REQUESTS"))
  return formatted
end

local counter = 0
local rate = tonumber(os.getenv("BENCH_RATE") or "")
local connections = tonumber(os.getenv("BENCH_CONNECTIONS") or "1")

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
end

local next_index
function init(args)
  -- Formatted here, not at load time: wrk sets the Host header just before init.
  lines = load_requests()
  -- Threads take disjoint stretches of the list, so a request that may succeed only once (a
  -- session completed) is sent once as long as the list is long enough for the run.
  local thread_count = tonumber(os.getenv("BENCH_THREADS") or "1")
  next_index = math.floor((id - 1) * #lines / thread_count) % #lines + 1
  math.randomseed(id * 7919)
end

function request()
  local r = lines[next_index]
  next_index = next_index % #lines + 1
  return r
end

if rate then
  function delay()
    -- mean gap per connection so that all connections together send `rate` requests a second
    local mean = 1000 * connections / rate
    return math.floor(-math.log(1 - math.random()) * mean)
  end
end

function done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  local seconds = summary.duration / 1e6
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "rps": %.1f, "p50_ms": %.3f, "p90_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f, "socket_errors": %d, "non_2xx": %d}\n',
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, errors, summary.errors.status))
end
