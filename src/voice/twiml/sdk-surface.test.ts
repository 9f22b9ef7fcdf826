// Everything the official SDK's VoiceResponse can emit either runs or is refused by name,
// never silently ignored. The test reads the SDK's own declarations (VoiceResponse.d.ts:
// every verb and noun method, the attributes interface it takes, the element it returns),
// builds each element with the SDK under its parents, and for every attribute and every value
// of its type checks what parseTwiml makes of it:
//   - refused: a TwimlError 13221 that names it (12200, "not TwiML", would mean we forgot it);
//   - or run: the parsed verbs differ from the same document without the attribute.
// For an enum or a boolean, at most one value may leave the verbs unchanged: Twilio's default.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import ts from 'typescript';
import twilio from 'twilio';
import { describe, expect, it } from 'vitest';
import { parseTwiml, TwimlError } from './parse.js';

const require = createRequire(import.meta.url);
const DTS = join(dirname(require.resolve('twilio/package.json')), 'lib/twiml/VoiceResponse.d.ts');

// ------------------------------------------------------------------ the SDK's declarations

type AttrType =
  | { kind: 'enum'; values: string[]; list: boolean }
  | { kind: 'boolean' }
  | { kind: 'number'; list: boolean }
  | { kind: 'string' };

interface Method {
  /** The attributes interface of its `attributes` parameter, if it takes one. */
  attributes: string | undefined;
  /** Whether some overload takes text (words, a URL, a number…). */
  text: boolean;
  /** The class of the element it returns. */
  returns: string;
}

function readSurface() {
  const src = ts.createSourceFile(DTS, readFileSync(DTS, 'utf8'), ts.ScriptTarget.Latest, true);
  const classes = new Map<string, Map<string, Method>>();
  const interfaces = new Map<string, Map<string, ts.TypeNode>>();
  const aliases = new Map<string, ts.TypeNode>();
  const visit = (node: ts.Node) => {
    if (ts.isClassDeclaration(node) && node.name) {
      const methods = classes.get(node.name.text) ?? new Map<string, Method>();
      for (const m of node.members) {
        if (!ts.isMethodDeclaration(m) || !ts.isIdentifier(m.name) || !m.type) continue;
        const name = m.name.text;
        if (
          [
            'toString',
            'toJSON',
            'comment',
            'commentBefore',
            'commentAfter',
            'addChild',
            'addText',
          ].includes(name)
        )
          continue;
        const ret = m.type.getText(src).replace(/^VoiceResponse\./, '');
        const prev = methods.get(name) ?? { attributes: undefined, text: false, returns: ret };
        for (const p of m.parameters) {
          const t = p.type?.getText(src) ?? '';
          if (/Attributes$/.test(t)) prev.attributes = t.replace(/^VoiceResponse\./, '');
          else if (t === 'string' || t === 'number') prev.text = true;
        }
        methods.set(name, prev);
      }
      classes.set(node.name.text, methods);
    }
    if (ts.isInterfaceDeclaration(node) && /Attributes$/.test(node.name.text)) {
      const props = interfaces.get(node.name.text) ?? new Map<string, ts.TypeNode>();
      for (const m of node.members)
        if (ts.isPropertySignature(m) && m.type) {
          const key = m.name.getText(src).replace(/^"|"$/g, '');
          props.set(key, m.type);
        }
      interfaces.set(node.name.text, props);
    }
    if (ts.isTypeAliasDeclaration(node)) aliases.set(node.name.text, node.type);
    ts.forEachChild(node, visit);
  };
  visit(src);
  const typeOf = (t: ts.TypeNode, list = false): AttrType => {
    if (ts.isArrayTypeNode(t)) return typeOf(t.elementType, true);
    if (ts.isTypeReferenceNode(t)) {
      const alias = aliases.get(t.typeName.getText(src));
      if (alias) return typeOf(alias, list);
    }
    if (ts.isUnionTypeNode(t) && t.types.every((u) => ts.isLiteralTypeNode(u)))
      return {
        kind: 'enum',
        list,
        values: t.types.map((u) => (u as ts.LiteralTypeNode).literal.getText(src).slice(1, -1)),
      };
    if (t.kind === ts.SyntaxKind.BooleanKeyword) return { kind: 'boolean' };
    if (t.kind === ts.SyntaxKind.NumberKeyword) return { kind: 'number', list };
    return { kind: 'string' };
  };
  return { classes, interfaces, typeOf };
}

// ------------------------------------------------------------------ building documents

/** Text an element needs to mean anything (a number to dial, a URL to play…). */
const TEXT: Readonly<Record<string, string>> = {
  number: '+15550001111',
  sip: 'sip:bob@127.0.0.1:5070',
  uri: 'sip:bob@127.0.0.1:5070',
  client: 'alice',
  identity: 'alice',
  conference: 'room',
  queue: 'support',
  enqueue: 'support',
  play: 'https://example.com/a.wav',
  redirect: 'https://example.com/next',
  sim: 'DE00000000000000000000000000000000',
  application: 'AP00000000000000000000000000000000',
  applicationSid: 'AP00000000000000000000000000000000',
  whatsApp: '+15550001111',
  refer: 'sip:x@example.com',
  sms: 'Hello',
};

/** Attributes an element needs to be valid at all (an SSML <sub> has an alias…). */
const NEEDS: Readonly<Record<string, Record<string, string>>> = {
  sub: { alias: 'World Wide Web' },
  lang: { 'xml:lang': 'fr-FR' },
  sayAs: { 'interpret-as': 'characters' },
  header: { name: 'X-Trace', value: 'abc' },
  parameter: { name: 'p', value: 'v' },
};

/** A non-default sample for string attributes, by name. */
function sample(name: string): string {
  if (/^method$|Method$/.test(name)) return 'GET';
  if (/^(pitch|rate|volume)$/.test(name)) return '+20%';
  if (/url|Url|callback|Callback|action$/i.test(name)) return 'https://example.com/cb';
  if (/callerId|^from$|^to$/.test(name)) return '+15550009999';
  if (/digits|Digits/.test(name)) return '12w3';
  if (name === 'finishOnKey') return '*';
  if (name === 'time') return '300ms';
  if (name === 'name') return 'X-Other';
  if (/[Ss]id$/.test(name)) return 'WW00000000000000000000000000000000';
  if (name === 'username') return 'user';
  if (name === 'password') return 'Secret-pass-42';
  if (name === 'speechTimeout') return 'auto';
  return 'value-1';
}

/** A chain of SDK calls from the <Response> to one element: [method, text?] per level. */
type Path = readonly string[];

const { VoiceResponse } = twilio.twiml;

/** Builds the document of `path`, the last element with `attrs`; returns its XML. */
function build(
  path: Path,
  attrs: Record<string, unknown>,
  surface: ReturnType<typeof readSurface>,
) {
  const response = new VoiceResponse();
  let node: Record<string, (...a: unknown[]) => unknown> = response as never;
  let cls = 'VoiceResponse';
  path.forEach((method, i) => {
    const m = surface.classes.get(cls)?.get(method);
    if (!m) throw new Error(`${cls}.${method} is not in the declarations`);
    const last = i === path.length - 1;
    const a = { ...(NEEDS[method] ?? {}), ...(last ? attrs : {}) };
    // A <Dial> with nouns in it has no number of its own.
    const text =
      method === 'dial' && !last ? undefined : (TEXT[method] ?? (m.text ? 'word' : undefined));
    const args = m.attributes
      ? text !== undefined
        ? [a, text]
        : [a]
      : text !== undefined
        ? [text]
        : [];
    node = node[method]!.apply(node, args) as typeof node;
    cls = m.returns;
  });
  return response.toString();
}

type Outcome = { kind: 'ok'; verbs: string } | { kind: 'refused'; code: number; message: string };

function outcome(xml: string): Outcome {
  try {
    return { kind: 'ok', verbs: JSON.stringify(parseTwiml(xml)) };
  } catch (e) {
    if (!(e instanceof TwimlError)) throw e;
    return { kind: 'refused', code: e.code, message: e.message };
  }
}

// ------------------------------------------------------------------ the walk

/** Every element reachable from <Response>, once each, as a path of SDK calls. */
function elementPaths(surface: ReturnType<typeof readSurface>): Path[] {
  const out: Path[] = [];
  const seen = new Set<string>();
  const walk = (cls: string, path: Path) => {
    for (const [method, m] of surface.classes.get(cls) ?? []) {
      const key = `${cls}.${method}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const p = [...path, method];
      out.push(p);
      walk(m.returns, p);
    }
  };
  walk('VoiceResponse', []);
  return out;
}

describe("the official SDK's VoiceResponse surface", () => {
  const surface = readSurface();
  const paths = elementPaths(surface);

  it('reads every verb and noun of the SDK', () => {
    const verbs = paths.filter((p) => p.length === 1).map((p) => p[0]);
    expect(verbs).toEqual(
      expect.arrayContaining([
        'say',
        'play',
        'pause',
        'gather',
        'record',
        'dial',
        'connect',
        'start',
        'pay',
      ]),
    );
    expect(paths.length).toBeGreaterThan(60);
  });

  it('runs or refuses by name every element, every attribute and every value', () => {
    const problems: string[] = [];
    let checked = 0;
    for (const path of paths) {
      const where = path.join(' > ');
      const base = outcome(build(path, {}, surface));
      // <Start> holds one of its nouns; each is walked on its own.
      if (path.join() === 'start') continue;
      if (base.kind === 'refused') {
        // A whole element refused (Pay, Connect, <Dial><Sim>…): with its Twilio code.
        if (base.code !== 13221)
          problems.push(`${where}: refused with ${base.code}: ${base.message}`);
        continue;
      }
      let cls = 'VoiceResponse';
      let method: Method | undefined;
      for (const step of path) {
        method = surface.classes.get(cls)?.get(step);
        cls = method?.returns ?? '';
      }
      const props = method?.attributes ? surface.interfaces.get(method.attributes) : undefined;
      for (const [name, typeNode] of props ?? []) {
        if (NEEDS[path.at(-1) ?? '']?.[name] !== undefined) continue;
        const type = surface.typeOf(typeNode);
        const values: string[] =
          type.kind === 'enum'
            ? type.values
            : type.kind === 'boolean'
              ? ['true', 'false']
              : type.kind === 'number'
                ? ['7']
                : [sample(name)];
        let unchanged = 0;
        for (const value of values) {
          checked++;
          const attrValue = type.kind === 'enum' && type.list ? [value] : value;
          const got = outcome(build(path, { [name]: attrValue }, surface));
          if (got.kind === 'refused') {
            // 13221 names what Switchboard refuses; 12200 would be an attribute it does not know,
            // or a sample value it finds invalid (then the sample is wrong, not the parser).
            if (got.code !== 13221)
              problems.push(`${where} ${name}="${value}": ${got.code} ${got.message}`);
            continue;
          }
          if (got.verbs === base.verbs) unchanged++;
        }
        // One value may be the default (the same as leaving the attribute out); two cannot.
        const allowed = type.kind === 'enum' || type.kind === 'boolean' ? 1 : 0;
        if (unchanged > allowed)
          problems.push(
            `${where} ${name}: ${unchanged} value(s) change nothing (silently ignored)`,
          );
      }
    }
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThan(400);
  });
});
