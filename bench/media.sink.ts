// Sink for bench/media.ts, in its own process: receives every stream on one UDP socket and
// measures, per SSRC, the interval between consecutive packets. Prints its port, then on
// SIGUSR2 (or stdin "report") a JSON line with the interval deviations from 20 ms.
import { createSocket } from 'node:dgram';
import { createInterface } from 'node:readline';

const socket = createSocket('udp4');
const last = new Map<number, bigint>();
let deviations: number[] = [];
let packets = 0;
let measuring = false;

socket.on('message', (msg) => {
  const now = process.hrtime.bigint();
  if (msg.length < 12) return;
  const ssrc = msg.readUInt32BE(8);
  const prev = last.get(ssrc);
  last.set(ssrc, now);
  packets++;
  if (measuring && prev !== undefined) deviations.push(Math.abs(Number(now - prev) / 1e6 - 20));
});

socket.bind(0, '127.0.0.1', () => {
  console.log(JSON.stringify({ port: socket.address().port }));
});

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  if (line === 'start') {
    measuring = true;
    deviations = [];
    packets = 0;
    return;
  }
  if (line === 'report') {
    measuring = false;
    const d = Float64Array.from(deviations).sort();
    const q = (p: number): number => d[Math.min(d.length - 1, Math.floor(p * d.length))] ?? NaN;
    console.log(
      JSON.stringify({
        streams: last.size,
        packets,
        intervals: d.length,
        p50: q(0.5),
        p99: q(0.99),
        p999: q(0.999),
        max: d[d.length - 1] ?? NaN,
      }),
    );
  }
  if (line === 'exit') {
    socket.close();
    process.exit(0);
  }
});
