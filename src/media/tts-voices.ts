// Twilio's <Say> voices and languages mapped to the espeak-ng voices that speak them. Amazon
// Polly and Google voices are not available here: each is spoken by espeak-ng in its own
// language (a Google voice names it; a Polly voice has one, listed below) and, where Twilio's
// voice is a woman's, with espeak-ng's female variant.

/** Languages espeak-ng speaks under their own ISO 639 code (espeak-ng-data's voices). */
const ESPEAK_CODES = new Set(
  (
    'af am an ar as az ba be bg bn bs ca cmn cs cv cy da de el eo es et eu fa fi ga gd gn gu ' +
    'haw he hi hr ht hu hy ia id io is it ja ka kk kl kn ko kok ku ky la lb lt lv mi mk ml mr ' +
    'ms mt my nb ne nl om or pa pl pt qu ro ru sd si sk sl sq sr sv sw ta te th tk tn tr tt ug ' +
    'uk ur uz vi yue'
  ).split(' '),
);

/** Twilio language tags whose espeak-ng voice is not their bare code. */
const LANGUAGES: Readonly<Record<string, string>> = {
  arb: 'ar',
  'en-us': 'en-us',
  'en-ca': 'en-us',
  'es-mx': 'es-419',
  'es-us': 'es-419',
  fr: 'fr-fr',
  'fr-be': 'fr-be',
  'fr-ch': 'fr-ch',
  'pt-br': 'pt-br',
  zh: 'cmn',
  'zh-hk': 'yue',
  'zh-tw': 'cmn',
  nn: 'nb',
  no: 'nb',
};

/** The language of each Amazon Polly voice Twilio offers, and whether it is a woman's. */
const POLLY: Readonly<Record<string, readonly [string, 'f' | 'm']>> = {
  Aditi: ['en-IN', 'f'],
  Amy: ['en-GB', 'f'],
  Astrid: ['sv-SE', 'f'],
  Bianca: ['it-IT', 'f'],
  Brian: ['en-GB', 'm'],
  Camila: ['pt-BR', 'f'],
  Carla: ['it-IT', 'f'],
  Carmen: ['ro-RO', 'f'],
  Celine: ['fr-FR', 'f'],
  Chantal: ['fr-CA', 'f'],
  Conchita: ['es-ES', 'f'],
  Cristiano: ['pt-PT', 'm'],
  Dora: ['is-IS', 'f'],
  Emma: ['en-GB', 'f'],
  Enrique: ['es-ES', 'm'],
  Ewa: ['pl-PL', 'f'],
  Filiz: ['tr-TR', 'f'],
  Geraint: ['en-GB-WLS', 'm'],
  Giorgio: ['it-IT', 'm'],
  Gwyneth: ['cy-GB', 'f'],
  Hans: ['de-DE', 'm'],
  Ines: ['pt-PT', 'f'],
  Ivy: ['en-US', 'f'],
  Jacek: ['pl-PL', 'm'],
  Jan: ['pl-PL', 'm'],
  Joanna: ['en-US', 'f'],
  Joey: ['en-US', 'm'],
  Justin: ['en-US', 'm'],
  Karl: ['is-IS', 'm'],
  Kendra: ['en-US', 'f'],
  Kevin: ['en-US', 'm'],
  Kimberly: ['en-US', 'f'],
  Lea: ['fr-FR', 'f'],
  Liv: ['nb-NO', 'f'],
  Lotte: ['nl-NL', 'f'],
  Lucia: ['es-ES', 'f'],
  Lupe: ['es-US', 'f'],
  Mads: ['da-DK', 'm'],
  Maja: ['pl-PL', 'f'],
  Marlene: ['de-DE', 'f'],
  Mathieu: ['fr-FR', 'm'],
  Matthew: ['en-US', 'm'],
  Maxim: ['ru-RU', 'm'],
  Mia: ['es-MX', 'f'],
  Miguel: ['es-US', 'm'],
  Mizuki: ['ja-JP', 'f'],
  Naja: ['da-DK', 'f'],
  Nicole: ['en-AU', 'f'],
  Penelope: ['es-US', 'f'],
  Raveena: ['en-IN', 'f'],
  Ricardo: ['pt-BR', 'm'],
  Ruben: ['nl-NL', 'm'],
  Russell: ['en-AU', 'm'],
  Salli: ['en-US', 'f'],
  Seoyeon: ['ko-KR', 'f'],
  Takumi: ['ja-JP', 'm'],
  Tatyana: ['ru-RU', 'f'],
  Vicki: ['de-DE', 'f'],
  Vitoria: ['pt-BR', 'f'],
  Zeina: ['arb', 'f'],
  Zhiyu: ['cmn-CN', 'f'],
  // Neural and generative voices (the same names carry -Neural / -Generative).
  Adriano: ['it-IT', 'm'],
  Andres: ['es-MX', 'm'],
  Aria: ['en-NZ', 'f'],
  Arlet: ['ca-ES', 'f'],
  Arthur: ['en-GB', 'm'],
  Ayanda: ['en-ZA', 'f'],
  Burcu: ['tr-TR', 'f'],
  Daniel: ['de-DE', 'm'],
  Danielle: ['en-US', 'f'],
  Elin: ['sv-SE', 'f'],
  Gabrielle: ['fr-CA', 'f'],
  Gregory: ['en-US', 'm'],
  Hala: ['ar-AE', 'f'],
  Hannah: ['de-AT', 'f'],
  Hiujin: ['yue-HK', 'f'],
  Ida: ['nb-NO', 'f'],
  Isabelle: ['fr-BE', 'f'],
  Kajal: ['en-IN', 'f'],
  Kazuha: ['ja-JP', 'f'],
  Laura: ['nl-NL', 'f'],
  Liam: ['fr-CA', 'm'],
  Lisa: ['nl-BE', 'f'],
  Niamh: ['en-IE', 'f'],
  Ola: ['pl-PL', 'f'],
  Olivia: ['en-AU', 'f'],
  Pedro: ['es-US', 'm'],
  Remi: ['fr-FR', 'm'],
  Rémi: ['fr-FR', 'm'],
  Ruth: ['en-US', 'f'],
  Sergio: ['es-ES', 'm'],
  Sofie: ['da-DK', 'f'],
  Stephen: ['en-US', 'm'],
  Suvi: ['fi-FI', 'f'],
  Thiago: ['pt-BR', 'm'],
  Tomoko: ['ja-JP', 'f'],
  Zayd: ['ar-AE', 'm'],
  Mía: ['es-MX', 'f'],
};

/** The espeak-ng voice for a Twilio language tag (`en-US`, `fr-CA`, `cmn-CN`); undefined if none. */
export function espeakLanguage(language: string): string | undefined {
  const tag = language.trim().toLowerCase();
  const [primary = '', region = ''] = tag.split('-');
  if (primary === 'en') return region === 'us' || region === 'ca' ? 'en-us' : 'en-gb';
  const mapped = LANGUAGES[`${primary}-${region}`] ?? LANGUAGES[primary];
  if (mapped) return mapped;
  return ESPEAK_CODES.has(primary) ? primary : undefined;
}

/**
 * The espeak-ng voice (with its female variant where the Twilio voice is a woman's) for a
 * <Say voice language>: Twilio's basic voices (man, woman, alice), Polly.* and Google.*, in
 * `language` (default en-US) unless the voice names its own. undefined when Switchboard has
 * no voice for it (an unknown voice name, or a language espeak-ng does not speak).
 */
export function espeakVoice(voice?: string, language?: string): string | undefined {
  let lang = language || 'en-US';
  let female = false;
  const v = voice?.trim();
  if (v) {
    if (v === 'woman' || v === 'alice') female = true;
    else if (v === 'man') female = false;
    else if (v.startsWith('Google.')) {
      // Google.<language>-<region>-<Kind>-<Name>: its language is in its name.
      const m = /^Google\.([a-z]{2,3}-[A-Za-z]{2})-/.exec(v);
      if (!m?.[1]) return undefined;
      lang = m[1];
    } else if (v.startsWith('Polly.')) {
      const known = POLLY[v.slice(6).replace(/-(Neural|Generative)$/, '')];
      if (!known) return undefined;
      [lang, female] = [known[0], known[1] === 'f'];
    } else if (/^[a-z]{2,3}(-[a-z0-9]+)*$/.test(v)) {
      // An espeak-ng language code itself (the media API's own callers use them).
      lang = v;
    } else return undefined;
  }
  const base = espeakLanguage(lang);
  if (!base) return undefined;
  return female ? `${base}+f3` : base;
}
