// As-you-type checks of a job spec, with the server's own wording. The server stays the judge (its reply
// is shown beside the field too); the known keys come from the server, as the full specs of its presets,
// so the page holds no second copy of the key list.
const MODELS = ['ae', 'dae', 'vae', 'conv-vae', 'aae'];

/** The keys (and, for nested objects, their keys) that the presets' full specs carry. */
export function knownKeys(specs) {
  const keys = new Map();
  for (const spec of specs) {
    for (const [k, v] of Object.entries(spec ?? {})) {
      if (!keys.has(k)) keys.set(k, new Set());
      if (v && typeof v === 'object' && !Array.isArray(v)) Object.keys(v).forEach(n => keys.get(k).add(n));
    }
  }
  return keys;
}

/** null when the text looks like a valid spec, else a message naming the key (or the JSON position). */
export function checkSpec(text, known) {
  let spec;
  try {
    spec = JSON.parse(text);
  } catch (e) {
    return `not valid JSON: ${e.message}`;
  }
  if (spec == null || typeof spec !== 'object' || Array.isArray(spec)) return 'a job spec must be a JSON object';
  if (known.size) {
    for (const [k, v] of Object.entries(spec)) {
      if (!known.has(k)) return `unknown key "${k}" (known keys: ${[...known.keys()].sort().join(', ')})`;
      const nested = known.get(k);
      if (v && typeof v === 'object' && !Array.isArray(v) && nested.size) {
        for (const n of Object.keys(v)) if (!nested.has(n)) return `unknown key "${k}.${n}"`;
      }
    }
  }
  if (spec.model == null) return '"model" is required (one of ae, dae, vae, conv-vae, aae)';
  if (typeof spec.model !== 'string' || !MODELS.includes(spec.model.toLowerCase())) {
    return `"model" must be one of ${MODELS.join(', ')}, got ${JSON.stringify(spec.model)}`;
  }
  for (const [k, v] of Object.entries(spec)) {
    if (['lr', 'beta', 'latent', 'batchSize', 'epochs', 'seed', 'frameEverySteps', 'threads'].includes(k)
        && v != null && typeof v !== 'number') {
      return `"${k}" must be a number, got ${JSON.stringify(v)}`;
    }
  }
  return null;
}
