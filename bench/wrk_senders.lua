-- wrk script for bench/wrk.py: each wrk thread is one sender with one connection,
-- sending its own pre-built requests in file order, the next only after the last
-- was answered (wrk -t N -c N). Arguments after "--": the folder of sender files,
-- and "cycle" to start a sender's file again at its end (the ceiling).
--
-- A sender file holds raw HTTP requests, each as "<length>\n<bytes>".

local threads = {}

function setup(thread)
   threads[#threads + 1] = thread
   thread:set("sender", #threads)
end

function init(args)
   folder = args[1]
   cycle = args[2] == "cycle"
   sent = 0
   exhausted = false
   -- wrk calls request() once on the first thread before it runs, to see
   -- whether the script pipelines, and sends nothing from that call.
   probe = sender == 1
end

local function load()
   local file = assert(io.open(folder .. "/sender-" .. sender .. ".req", "rb"))
   local data = file:read("*a")
   file:close()
   requests = {}
   local position = 1
   while position <= #data do
      local newline = data:find("\n", position, true)
      local length = tonumber(data:sub(position, newline - 1))
      requests[#requests + 1] = data:sub(newline + 1, newline + length)
      position = newline + 1 + length
   end
end

function request()
   if requests == nil then
      load()
   end
   if probe then
      probe = false
      return requests[1]
   end
   if sent >= #requests then
      if not cycle then
         -- Out of prepared requests: the figures would be wrong, so stop and say so.
         exhausted = true
         wrk.thread:stop()
         return "GET /healthz HTTP/1.1\r\nHost: bench\r\n\r\n"
      end
      sent = 0
   end
   sent = sent + 1
   return requests[sent]
end

function done(summary, latency, rates)
   local exhausted_senders = 0
   for _, thread in ipairs(threads) do
      if thread:get("exhausted") then
         exhausted_senders = exhausted_senders + 1
      end
   end
   local errors = summary.errors
   io.write(string.format(
      'WRK_JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d, ' ..
      '"connect_errors": %d, "read_errors": %d, "write_errors": %d, "status_errors": %d, "timeouts": %d, "exhausted_senders": %d}\n',
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
      errors.connect, errors.read, errors.write, errors.status, errors.timeout, exhausted_senders))
end
