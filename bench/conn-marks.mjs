// Preloaded into bench/setup.ts's target with `--conn-marks` (`node --import ./bench/conn-marks.mjs`): a
// stderr line for every TCP connection the HTTP server accepts and every 'upgrade' it emits, with
// wall-clock times (ms since the epoch) and the client's port, so a call's upgrade can be split
// into connect -> accepted by the target -> its request parsed -> 101 (bench/setup-timeline.ts).
import http from "node:http"
import { performance } from "node:perf_hooks"

const origin = performance.timeOrigin
const emit = http.Server.prototype.emit
http.Server.prototype.emit = function(event, ...args) {
  if (event === "connection") process.stderr.write(`CONNMARK accept ${args[0].remotePort} ${(origin + performance.now()).toFixed(2)}\n`)
  else if (event === "upgrade") process.stderr.write(`CONNMARK upgrade ${args[1].remotePort} ${(origin + performance.now()).toFixed(2)}\n`)
  return emit.call(this, event, ...args)
}
