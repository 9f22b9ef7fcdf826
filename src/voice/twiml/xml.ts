// The document tree as fast-xml-parser gives it with `preserveOrder`: each node is an object
// with one key (its tag, or `#text`) holding its children, and `:@` holding its attributes.

export type XmlNode = Record<string, unknown> & { ':@'?: Record<string, string> };

export function tagOf(node: XmlNode): string {
  for (const k of Object.keys(node)) if (k !== ':@') return k;
  return '';
}

export function children(node: XmlNode): XmlNode[] {
  const v = node[tagOf(node)];
  return Array.isArray(v) ? (v as XmlNode[]) : [];
}

/** The child elements, without the text between them. */
export function elements(node: XmlNode): XmlNode[] {
  return children(node).filter((c) => tagOf(c) !== '#text');
}

export function attrsOf(node: XmlNode): Record<string, string> {
  return node[':@'] ?? {};
}

/** The text of an element and of everything inside it. */
export function text(node: XmlNode): string {
  return children(node)
    .map((c) => (typeof c['#text'] === 'string' ? c['#text'] : text(c)))
    .join(' ')
    .trim();
}

/** Only text, no child elements: a URL, a number, a queue name. */
export function bareText(node: XmlNode): string {
  return children(node)
    .filter((c) => typeof c['#text'] === 'string')
    .map((c) => String(c['#text']))
    .join(' ')
    .trim();
}
