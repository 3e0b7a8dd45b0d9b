-- wrk script for the PassKit web service: each request picks a random seeded registration.
-- MODE=304: GET /v1/passes/{type}/{serial} with If-Modified-Since (answered 304).
-- MODE=list: GET /v1/devices/{device}/registrations/{type} (200 with the device's serials).
local targets = {}
local mode = os.getenv("MODE") or "304"
local pass_type = os.getenv("PASS_TYPE") or "pass.com.passerelle.demo"
local since = os.getenv("SINCE")

function init(args)
  for line in io.lines(os.getenv("TARGETS")) do
    local device, serial, token = line:match("(%S+) (%S+) (%S+)")
    targets[#targets + 1] = { device = device, serial = serial, token = token }
  end
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end

function request()
  local t = targets[math.random(#targets)]
  if mode == "304" then
    return wrk.format("GET", "/v1/passes/" .. pass_type .. "/" .. t.serial,
      { ["Authorization"] = "ApplePass " .. t.token, ["If-Modified-Since"] = since })
  end
  return wrk.format("GET", "/v1/devices/" .. t.device .. "/registrations/" .. pass_type)
end

bad = 0
function response(status, headers, body)
  if (mode == "304" and status ~= 304) or (mode ~= "304" and status ~= 200) then
    bad = bad + 1
  end
end

local threads = {}
function setup(thread)
  threads[#threads + 1] = thread
end

function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("bad") end
  io.write(string.format("unexpected statuses: %d\n", total))
end
