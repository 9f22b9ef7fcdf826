// Property tests of the switch decision: it follows cost against expected time, with
// hysteresis (a margin over the cost and a minimum dwell), and never flaps.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decideSwitch } from './switching.js';

const outlook = (id: string) =>
  fc.record({
    networkSid: fc.constant(id),
    poorSeconds: fc.double({ min: 0, max: 600, noNaN: true }),
    switchCostS: fc.double({ min: 0.1, max: 60, noNaN: true }),
  });

describe('decideSwitch', () => {
  it('switches exactly when the poor time avoided exceeds margin x cost, outside the dwell', () => {
    fc.assert(
      fc.property(
        outlook('A'),
        outlook('B'),
        fc.double({ min: 1, max: 5, noNaN: true }),
        (a, b, margin) => {
          const d = decideSwitch({
            current: a,
            alternatives: [b],
            now: 1e9,
            lastSwitchAt: null,
            minDwellS: 60,
            margin,
          });
          const gain = a.poorSeconds - b.poorSeconds;
          expect(d.switch).toBe(gain > margin * b.switchCostS);
          if (d.switch) {
            expect(d.to).toBe('B');
            expect(d.netGainS).toBeCloseTo(gain - b.switchCostS);
          }
        },
      ),
    );
  });

  it('never switches within the dwell, whatever the gain', () => {
    fc.assert(
      fc.property(
        outlook('A'),
        outlook('B'),
        fc.integer({ min: 0, max: 59_999 }),
        (a, b, since) => {
          const d = decideSwitch({
            current: a,
            alternatives: [b],
            now: 1e9,
            lastSwitchAt: 1e9 - since,
            minDwellS: 60,
            margin: 1,
          });
          expect(d.switch).toBe(false);
        },
      ),
    );
  });

  it('never flaps: right after a switch A -> B, the way back is refused even with mirrored figures', () => {
    fc.assert(
      fc.property(
        outlook('A'),
        outlook('B'),
        fc.double({ min: 1, max: 5, noNaN: true }),
        (a, b, margin) => {
          const first = decideSwitch({
            current: a,
            alternatives: [b],
            now: 1e9,
            lastSwitchAt: null,
            minDwellS: 30,
            margin,
          });
          if (!first.switch) return;
          const back = decideSwitch({
            current: { ...b, poorSeconds: a.poorSeconds, switchCostS: 0 },
            alternatives: [{ ...a, poorSeconds: b.poorSeconds }],
            now: 1e9 + 1000,
            lastSwitchAt: 1e9,
            minDwellS: 30,
            margin,
          });
          expect(back.switch).toBe(false);
        },
      ),
    );
  });

  it('a margin above one leaves a dead band: a gain between cost and margin x cost never switches', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.5, max: 30, noNaN: true }),
        fc.double({ min: 0, max: 0.99, noNaN: true }),
        (cost, f) => {
          const margin = 2;
          const gain = cost * (1 + f * (margin - 1));
          const d = decideSwitch({
            current: { networkSid: 'A', poorSeconds: 100, switchCostS: 0 },
            alternatives: [{ networkSid: 'B', poorSeconds: 100 - gain, switchCostS: cost }],
            now: 0,
            lastSwitchAt: null,
            minDwellS: 0,
            margin,
          });
          expect(d.switch).toBe(false);
        },
      ),
    );
  });
});
