// One Switchboard SIP node for the Kamailio dispatcher test: answers every call, prints one
// JSON line per event on stdout. Usage: tsx node.ts <name>
import { createSipEngine } from '../../../src/sip/index.js';

const name = process.argv[2] ?? 'node';
const SDP =
  'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 7078 RTP/AVP 0\r\n';
const sip = await createSipEngine({ host: '127.0.0.1', port: 0 });
const say = (o: Record<string, unknown>): void =>
  void process.stdout.write(`${JSON.stringify({ node: name, ...o })}\n`);
sip.on('invite', (call) => {
  say({ event: 'invite', callId: call.request.callId });
  call.once('ended', (reason) => say({ event: 'ended', callId: call.request.callId, reason }));
  void call.answer(SDP);
});
say({ event: 'ready', port: sip.port });
const stop = (): void => void sip.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// Never outlive the test that started us.
setTimeout(stop, 120_000).unref();
process.stdin.on('end', stop);
process.stdin.resume();
