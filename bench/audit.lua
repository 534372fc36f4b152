-- wrk script for bench/audit.sh.
--   MODE=resident  GET /api/v1/residents/{id}, id uniform in MIN_ID..MAX_ID (audited read)
--   MODE=orgunit   GET /api/v1/orgunits/{code}, code drawn from the lines of $CODES (not audited)
-- TOKEN is the bearer token. Each thread has its own seed, so threads do not repeat each other.
local mode = os.getenv("MODE") or "resident"
local auth = "Bearer " .. os.getenv("TOKEN")
local headers = { ["Authorization"] = auth }
local min_id = tonumber(os.getenv("MIN_ID") or "1")
local max_id = tonumber(os.getenv("MAX_ID") or "1")
local codes = {}
if mode == "orgunit" then
  for line in io.lines(os.getenv("CODES")) do codes[#codes + 1] = line end
end

local counter = 0
setup = function(thread)
  counter = counter + 1
  thread:set("seed", 42 + counter)
end

init = function(args)
  math.randomseed(seed or 42)
end

request = function()
  if mode == "orgunit" then
    return wrk.format("GET", "/api/v1/orgunits/" .. codes[math.random(#codes)], headers)
  end
  return wrk.format("GET", "/api/v1/residents/" .. math.random(min_id, max_id), headers)
end
