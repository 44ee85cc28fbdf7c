-- wrk script: POST a new transaction on every request to /predict. Customers are drawn from a
-- pool and time moves forward, so the online state in Redis sees a realistic stream (a fixed
-- body would pile every request onto one customer's history).
local customers = tonumber(os.getenv("CUSTOMERS") or "5000")
local start_s = 1767225600 -- 2026-01-01T00:00:00Z
local counter = 0
local threads = 0

local template = [[{"transaction_id":"%s%d","customer_id":"c%d","timestamp":"%s",]]
  .. [["amount":%.2f,"merchant_id":"m%d","merchant_category":"electronics",]]
  .. [["merchant_country":"FR","channel":"online","device_id":"d%d","lat":48.85,"lon":2.35,]]
  .. [["home_lat":48.86,"home_lon":2.34,"home_country":"FR"}]]

function setup(thread)
  threads = threads + 1
  thread:set("prefix", "w" .. threads .. "-")
end

function init()
  math.randomseed(os.time())
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  counter = counter + 1
  local customer = math.random(1, customers)
  local timestamp = os.date("!%Y-%m-%dT%H:%M:%SZ", start_s + counter)
  local body = string.format(template, prefix, counter, customer, timestamp,
    math.random(100, 50000) / 100, math.random(1, 500), customer)
  return wrk.format(nil, "/predict", nil, body)
end
