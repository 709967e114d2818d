-- Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
--
-- wrk script for POST /v1/recover: sends the bodies of a file (one JSON
-- object per line, as printed by petera_make_requests), round robin, each
-- wrk thread starting at its own place in the file.
--
--   wrk -t2 -c8 -d10s --latency -s bench/recover.lua \
--       https://127.0.0.1:PORT/v1/recover -- bodies.jsonl [CONTENT-TYPE]
--
-- CONTENT-TYPE defaults to application/json (Tang wants application/jwk+json).

local counter = 0

function setup(thread)
   counter = counter + 1
   thread:set("id", counter)
end

local bodies = {}
local next_body = 1
local headers = { ["Content-Type"] = "application/json" }

function init(args)
   local path = args[1]
   if args[2] ~= nil then
      headers["Content-Type"] = args[2]
   end
   if path == nil then
      error("usage: wrk ... -s recover.lua URL -- BODIES.jsonl")
   end
   for line in io.lines(path) do
      if #line > 0 then
         table.insert(bodies, line)
      end
   end
   if #bodies == 0 then
      error(path .. " has no request bodies")
   end
   next_body = ((id or 1) * 7919) % #bodies + 1
end

function request()
   local body = bodies[next_body]
   next_body = next_body % #bodies + 1
   return wrk.format("POST", nil, headers, body)
end

-- No response() hook: wrk counts non-2xx answers itself ("Non-2xx or 3xx
-- responses") and a hook would make it parse every answer.
