// One wink-nlp English pipeline for the whole capability, built on first use. Each instance
// holds ~10 MB of heap beyond its model; built at import time (three of them, one per module)
// they made every node carry ~35 MB whether or not it ever analysed a transcript, and every
// major garbage collection marked them (bench/api: more CPU per request on an idle platform).
import winkNLP from 'wink-nlp';
import model from 'wink-eng-lite-web-model';

let pipeline: ReturnType<typeof winkNLP> | undefined;

export function english(): ReturnType<typeof winkNLP> {
  return (pipeline ??= winkNLP(model));
}
