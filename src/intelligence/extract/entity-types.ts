// The entity types the prebuilt recognition finds, apart from the models that find them: the
// operator catalogue names them at start, while the models load with the first transcript.
export type EntityType =
  'money' | 'percent' | 'number' | 'date' | 'time' | 'phone' | 'email' | 'identifier';

export const ENTITY_TYPES: readonly EntityType[] = [
  'money',
  'percent',
  'number',
  'date',
  'time',
  'phone',
  'email',
  'identifier',
];
