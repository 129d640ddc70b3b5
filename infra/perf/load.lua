-- wrk script for infra/perf/load.py. The route is chosen by the ROUTE
-- argument; every thread has one connection, so per-thread state is
-- per-connection state (refresh tokens rotate in a chain).
--   wrk ... -s load.lua -- ROUTE RUN_ID [TOKEN_FILE]
local route, run_id, token_file = nil, nil, nil
local counter = 0
local thread_index = 0
local current_token = nil
local threads = {}

function setup(thread)
  thread_index = thread_index + 1
  thread:set("index", thread_index)
  table.insert(threads, thread)
end

function init(args)
  route = args[1]
  -- Unique per wrk run, so sign-ups never repeat an earlier run's names.
  run_id = args[2]
  token_file = args[3]
  if token_file then
    local lines = {}
    for line in io.lines(token_file) do table.insert(lines, line) end
    -- Each thread takes its own line: a session of its own.
    current_token = lines[((index - 1) % #lines) + 1]
  end
end

local json_headers = { ["content-type"] = "application/json" }

function request()
  counter = counter + 1
  if route == "me" then
    return wrk.format("GET", "/users/me", { ["authorization"] = "Bearer " .. current_token })
  elseif route == "refresh" then
    return wrk.format("POST", "/auth/token/refresh", json_headers,
      '{"refresh_token":"' .. current_token .. '"}')
  elseif route == "login" then
    return wrk.format("POST", "/auth/login", json_headers,
      '{"login":"loadtest","password":"Tr1cky-Vole-Lantern"}')
  elseif route == "signup" then
    local name = string.format("lt%s_%d_%d", run_id, index, counter)
    return wrk.format("POST", "/auth/signup", json_headers,
      '{"username":"' .. name .. '","email":"' .. name .. '@example.com",' ..
      '"password":"Tr1cky-Vole-Lantern","confirm_password":"Tr1cky-Vole-Lantern",' ..
      '"rank":"Captain","unitname":"Signals","designation":"Officer",' ..
      '"mobileNo":"+919876543210","personalNo":"+919876543211","phoneNo":"+919876543212"}')
  end
end

function response(status, headers, body)
  if status >= 300 then
    wrk.thread:stop()
    io.stderr:write("unexpected status " .. status .. ": " .. body .. "\n")
  end
  if route == "refresh" then
    current_token = string.match(body, '"refresh_token":"([^"]+)"')
  end
end

function done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format(
    'RESULT {"requests": %d, "seconds": %.3f, "errors": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration / 1e6, errors,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
