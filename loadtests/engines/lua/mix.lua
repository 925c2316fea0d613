local keys = ${keys}
local p_get, p_incr = ${p_get}, ${p_incr}
local key_cum = ${zipf}
local json = {["Content-Type"] = "application/json"}

local function pick_key()
  if key_cum == nil then return math.random(0, keys - 1) end
  local r, lo, hi = math.random(), 1, keys
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if key_cum[mid] < r then lo = mid + 1 else hi = mid end
  end
  return lo - 1
end

local function build(k)
  local r = math.random()
  if r < p_get then
    return wrk.format("GET", "/kv/" .. k), false
  elseif r < p_incr then
    return wrk.format("POST", "/kv/" .. k .. "/incr", json, '{"by":1}'), true
  end
  local d = (k + math.random(1, keys - 1)) % keys
  return wrk.format("POST", "/transfer", json,
    '{"from":' .. k .. ',"to":' .. d .. ',"amount":' .. math.random(1, 1000) .. '}'), false
end
