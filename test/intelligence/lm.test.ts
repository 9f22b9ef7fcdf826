// The domain language model the recogniser is given: spoken forms of written numbers, and an
// ARPA model whose distributions sum to one (pocketsphinx does not check; a wrong back-off
// weight silently skews recognition).
import { describe, expect, it } from 'vitest';
import { arpaModel, spokenWords } from '../../src/intelligence/asr/lm.js';

function parse(arpa: string) {
  const grams = new Map<string, { p: number; bo: number }>();
  let order = 0;
  for (const line of arpa.split('\n')) {
    const m = line.match(/^\\(\d)-grams:$/);
    if (m) order = Number(m[1]);
    else if (order > 0 && line.includes('\t')) {
      const [p, g, bo] = line.split('\t');
      grams.set(g!, { p: 10 ** Number(p), bo: bo === undefined ? 1 : 10 ** Number(bo) });
    }
  }
  const prob = (ws: string[]): number => {
    const g = grams.get(ws.join(' '));
    if (g) return g.p;
    if (ws.length === 1) return grams.get('<unk>')!.p;
    return (grams.get(ws.slice(0, -1).join(' '))?.bo ?? 1) * prob(ws.slice(1));
  };
  return { grams, prob };
}

describe('domain language model', () => {
  it('spells out money, percentages and numbers as they are said', () => {
    expect(spokenWords('Send $1,500 at 3% to account 42.')).toEqual(
      'send one thousand five hundred dollars at three percent to account forty two'.split(' '),
    );
    expect(spokenWords('$12.50 or 2.5%')).toEqual(
      'twelve dollars and fifty cents or two point five percent'.split(' '),
    );
  });

  it('writes a trigram model whose conditional distributions sum to one', () => {
    const text = [
      'I would like to transfer money to my savings account',
      'transfer five hundred dollars to checking',
      'what is my checking account balance',
      'my savings account balance please',
      'I would like to check my balance',
    ];
    const general = new Map([
      ['the', 0.05],
      ['hello', 0.01],
      ['money', 0.002],
      ['</s>', 0.04],
    ]);
    const arpa = arpaModel(text, (w) => w !== 'checking', general);
    const { grams, prob } = parse(arpa);
    expect(arpa).toMatch(/^\\data\\\nngram 1=\d+\nngram 2=\d+\nngram 3=\d+\n/);
    expect(grams.has('checking')).toBe(false); // not in the dictionary
    expect(grams.has('hello')).toBe(true); // a general word stays possible
    const vocab = [...grams.keys()].filter((g) => !g.includes(' ') && g !== '<s>');
    for (const history of [[], ['my'], ['to', 'my'], ['<s>', 'i'], ['hello']]) {
      const sum = vocab.reduce((a, w) => a + prob([...history, w]), 0);
      expect(sum, history.join(' ')).toBeCloseTo(1, 3);
    }
    expect(prob(['to', 'my', 'savings'])).toBeGreaterThan(prob(['to', 'my', 'hello']));
  });
});
