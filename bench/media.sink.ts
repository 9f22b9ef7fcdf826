// Sink for bench/media.ts, in its own process: receives the streams on 16 UDP sockets (one
// socket's receive buffer overflows at 25,000 packets/s and would count its own drops) and
// measures, per SSRC, the interval between consecutive packets. Prints its port, then on
// SIGUSR2 (or stdin "report") a JSON line with the interval deviations from 20 ms.
import { createSocket } from 'node:dgram';
import { createInterface } from 'node:readline';

const SOCKETS = 16;
const sockets = Array.from({ length: SOCKETS }, () => createSocket('udp4'));
const last = new Map<number, bigint>();
let deviations: number[] = [];
let packets = 0;
let measuring = false;

const onMessage = (msg: Buffer): void => {
  const now = process.hrtime.bigint();
  if (msg.length < 12) return;
  const ssrc = msg.readUInt32BE(8);
  const prev = last.get(ssrc);
  last.set(ssrc, now);
  packets++;
  if (measuring && prev !== undefined) deviations.push(Math.abs(Number(now - prev) / 1e6 - 20));
};

void Promise.all(
  sockets.map(
    (socket) =>
      new Promise<number>((resolve) => {
        socket.on('message', onMessage);
        socket.bind(0, '127.0.0.1', () => resolve(socket.address().port));
      }),
  ),
).then((ports) => console.log(JSON.stringify({ port: ports[0], ports })));

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
    for (const socket of sockets) socket.close();
    process.exit(0);
  }
});
