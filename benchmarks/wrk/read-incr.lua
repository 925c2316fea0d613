-- 50% reads, 50% increments over 1024 keys
local counter = 0
request = function()
  counter = counter + 1
  local key = math.random(0, 1023)
  if counter % 2 == 0 then
    return wrk.format("GET", "/kv/" .. key)
  end
  return wrk.format("POST", "/kv/" .. key .. "/incr", {["Content-Type"] = "application/json"}, '{"by": 1}')
end
