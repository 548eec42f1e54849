-- wrk script: the load test's request mix (bench/locustfile.py says why these weights), one
-- connection per virtual user, no think time. Prints one JSON line like report.lua.
-- Requests carry the seeded customers' tokens (one drawn per request), as Locust's users do
-- (one drawn per user); orders are placed by the checklist's owner, as in Locust.
local tokens = {}
for t in string.gmatch(os.getenv("LOADTEST_TOKENS"), '"([^"]+)"') do tokens[#tokens + 1] = t end
local owner = os.getenv("LOADTEST_TOKEN")
local provider = os.getenv("LOADTEST_PROVIDER_ID")
local checklist = os.getenv("LOADTEST_CHECKLIST_ID")
local codes = os.getenv("LOADTEST_REQUIREMENT_CODES") -- a JSON array, as text

local markets = {"EU", "US", "GB", "CN", "JP", "KR", "CA", "AU", "IN", "BR"}
local hs = {"8518.22", "8517.13", "8471.30", "9503.00", "8516.71", "8507.60", "8509.40", "6403"}
local phrases = {"bluetooth%20speaker", "smartphone", "laptop", "wooden%20toy",
  "coffee%20machine", "power%20bank", "led%20lamp", "hair%20dryer"}

local function pick(list) return list[math.random(#list)] end

local function auth() return {["Authorization"] = "Bearer " .. pick(tokens)} end
local counter = 0

-- cumulative weights out of 100, in the order of the table in bench/locustfile.py
local mix = {
  {30, function() return wrk.format("GET", "/api/rules/search?market=" .. pick(markets) .. "&hs_code=" .. pick(hs), auth()) end},
  {45, function() return wrk.format("GET", "/api/rules/search?market=" .. pick(markets) .. "&q=" .. pick(phrases), auth()) end},
  {55, function() return wrk.format("GET", "/api/rules/self-check?market=" .. pick(markets) .. "&hs_code=" .. pick(hs), auth()) end},
  {70, function() return wrk.format("GET", "/api/identity/me", auth()) end},
  {78, function() return wrk.format("GET", "/api/orders/orders?limit=20", auth()) end},
  {86, function() return wrk.format("GET", "/api/orders/providers?market=EU", auth()) end},
  {91, function() return wrk.format("GET", "/api/rules/checklists?limit=20", auth()) end},
  {96, function()
    local headers = auth()
    headers["Content-Type"] = "application/json"
    return wrk.format("POST", "/api/rules/checklists", headers,
      '{"market":"EU","hs_code":"8518.22","answers":{"radio":true}}')
  end},
  {100, function()
    counter = counter + 1
    local headers = {["Authorization"] = "Bearer " .. owner, ["Content-Type"] = "application/json",
      ["Idempotency-Key"] = string.format("wrk-%d-%d-%d", math.random(1, 2147483647), os.time(), counter)}
    return wrk.format("POST", "/api/orders/orders", headers,
      '{"provider_id":"' .. provider .. '","checklist_id":"' .. checklist ..
      '","requirement_codes":' .. codes .. '}')
  end},
}

request = function()
  local roll = math.random(100)
  for _, entry in ipairs(mix) do
    if roll <= entry[1] then return entry[2]() end
  end
end

done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "rps": %.1f, "avg": %.3f, "p50": %.3f, "p95": %.3f, "p99": %.3f, "errors": %d, "failures": {"connect": %d, "read": %d, "write": %d, "status >= 400": %d, "timeout": %d}}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency.mean / 1000, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, errors, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.status, summary.errors.timeout))
end
