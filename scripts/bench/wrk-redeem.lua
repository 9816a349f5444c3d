-- wrk script: POST /api/v1/redemptions, each request a different cheque of the fixture file
-- written by `passnum bench --prepare-http FILE` (first line: the venue's token; then one code
-- per line), with an Idempotency-Key as a real scanner sends. Each wrk thread takes every
-- n-th code, so no cheque is sent twice. Answers other than 201 are counted and reported:
-- a run that runs out of cheques or meets errors is not a throughput figure.

local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  table.insert(threads, thread)
  counter = counter + 1
end

function init(args)
  local file = os.getenv("PASSNUM_WRK_FIXTURE")
  local f = assert(io.open(file, "r"), "fixture file " .. tostring(file))
  token = f:read("*l")
  codes = {}
  local i = 0
  local stride = tonumber(os.getenv("PASSNUM_WRK_THREADS") or "1")
  for line in f:lines() do
    if i % stride == id then
      codes[#codes + 1] = line
    end
    i = i + 1
  end
  f:close()
  next_code = 1
  created = 0
  other = 0
  wrk.method = "POST"
  wrk.headers["Authorization"] = "Bearer " .. token
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  local code = codes[next_code]
  if code == nil then
    code = "EXHAUSTED"
  end
  next_code = next_code + 1
  wrk.headers["Idempotency-Key"] = "wrk-" .. code
  return wrk.format(nil, "/api/v1/redemptions", nil,
    '{"code":"' .. code .. '","service_code":"2.1.07"}')
end

function response(status, headers, body)
  if status == 201 then
    created = created + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local c, o = 0, 0
  for _, t in ipairs(threads) do
    c = c + t:get("created")
    o = o + t:get("other")
  end
  io.write(string.format("created=%d other=%d p50_ms=%.2f p99_ms=%.2f\n",
    c, o, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
