// The SSML a <Say> may hold (what the SDK's Say builds: break, emphasis, lang, p, phoneme,
// prosody, s, say-as, sub, w), turned into the SSML the speech engine (espeak-ng) reads.
// What espeak-ng cannot render faithfully is refused by name rather than read out as text.
import { Attrs } from './attrs.js';
import { TwimlError } from './errors.js';
import { attrsOf, children, tagOf, type XmlNode } from './xml.js';

const escape = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const element = (tag: string, attrs: Record<string, string | undefined>, inner?: string) => {
  const a = Object.entries(attrs)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${escape(v ?? '')}"`)
    .join('');
  return inner === undefined ? `<${tag}${a}/>` : `<${tag}${a}>${inner}</${tag}>`;
};

const TIME = /^\d+(\.\d+)?(ms|s)$/;
const PROSODY =
  /^([+-]?\d+(\.\d+)?(%|dB|Hz|st)?|x-slow|slow|medium|fast|x-fast|x-low|low|high|x-high|silent|x-soft|soft|loud|x-loud|default)$/;
/** say-as kinds espeak-ng speaks as Twilio means them: letter by letter, or as written. */
const SAY_AS: Readonly<Record<string, 'characters' | 'text'>> = {
  characters: 'characters',
  'spell-out': 'characters',
  digits: 'characters',
  telephone: 'characters',
  cardinal: 'text',
  number: 'text',
};

function check(a: Attrs, name: string, pattern: RegExp): string | undefined {
  const v = a.get(name);
  if (v !== undefined && !pattern.test(v))
    throw new TwimlError(12200, `<${a.tag} ${name}="${v}"> is not a valid value`);
  return v;
}

function node(n: XmlNode): string {
  const tag = tagOf(n);
  if (tag === '#text') return escape(String(n['#text']));
  const a = new Attrs(tag, attrsOf(n));
  const inner = () => children(n).map(node).join(' ');
  let out: string;
  switch (tag) {
    case 'break':
      out = element('break', {
        strength: a.oneOf(
          'strength',
          ['none', 'x-weak', 'weak', 'medium', 'strong', 'x-strong'] as const,
          'medium',
        ),
        time: check(a, 'time', TIME),
      });
      break;
    case 'emphasis':
      out = element(
        'emphasis',
        { level: a.oneOf('level', ['strong', 'moderate', 'reduced'] as const, 'moderate') },
        inner(),
      );
      break;
    case 'lang': {
      const lang = check(a, 'xml:lang', /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/);
      if (!lang) throw new TwimlError(12200, '<lang> needs xml:lang');
      out = element('voice', { 'xml:lang': lang }, inner());
      break;
    }
    case 'p':
    case 's':
      out = element(tag, {}, inner());
      break;
    case 'prosody':
      out = element(
        'prosody',
        {
          volume: check(a, 'volume', PROSODY),
          rate: check(a, 'rate', PROSODY),
          pitch: check(a, 'pitch', PROSODY),
        },
        inner(),
      );
      break;
    case 'say-as': {
      const kind = a.get('interpret-as') ?? '';
      const how = SAY_AS[kind];
      a.refuse('format', 'say-as formats (dates) are not spoken by the speech engine');
      if (!how)
        throw new TwimlError(
          13221,
          `Switchboard refuses <say-as interpret-as="${kind}">: the speech engine speaks ` +
            `only ${Object.keys(SAY_AS).join(', ')}`,
        );
      out = how === 'text' ? inner() : element('say-as', { 'interpret-as': how }, inner());
      break;
    }
    case 'sub': {
      const alias = a.get('alias');
      if (alias === undefined) throw new TwimlError(12200, '<sub> needs an alias');
      out = element('sub', { alias }, inner());
      break;
    }
    case 'w':
      a.refuse('role', 'word roles are not known to the speech engine');
      out = inner();
      break;
    case 'phoneme':
      throw new TwimlError(
        13221,
        'Switchboard refuses <phoneme>: the speech engine does not read IPA or X-SAMPA',
      );
    default:
      throw new TwimlError(12200, `<${tag}> is not allowed in <Say>`);
  }
  a.done();
  return out;
}

/**
 * What a <Say> speaks: its plain text, and SSML for the speech engine when the text holds
 * SSML elements (undefined for plain text, which the engine reads as it is).
 */
export function sayContent(say: XmlNode): { text: string; ssml: string | undefined } {
  const parts = children(say);
  const plain = parts.every((c) => tagOf(c) === '#text');
  const text = parts
    .map((c) => (tagOf(c) === '#text' ? String(c['#text']) : plainText(c)))
    .join(' ')
    .replace(/\s+/g, ' ')
    .trim();
  return { text, ssml: plain ? undefined : parts.map(node).join(' ') };
}

function plainText(n: XmlNode): string {
  if (tagOf(n) === '#text') return String(n['#text']);
  if (tagOf(n) === 'sub') return attrsOf(n).alias ?? '';
  return children(n).map(plainText).join(' ');
}
