// fast-check arbitraries drawn from JSON Schema (the served OpenAPI document's), so a fuzz test
// generates what the document says is valid, and mutates it into what it says is not. Covers
// the keywords z.toJSONSchema emits for this API: $ref, anyOf/oneOf, object, array, string
// (pattern, enum, maxLength), boolean, integer, null, const.
import fc from 'fast-check';

type Json = Record<string, unknown>;

export interface SchemaContext {
  /** Resolves a local `#/components/schemas/X` reference. */
  resolve(ref: string): Json;
  /** Values to mix in for a property name (e.g. real CSRs for `csr`): schema-valid but unlikely to be generated. */
  readonly seeds?: Readonly<Record<string, fc.Arbitrary<unknown>>>;
}

function strings(schema: Json): fc.Arbitrary<string> {
  if (Array.isArray(schema['enum'])) return fc.constantFrom(...(schema['enum'] as string[]));
  const max = typeof schema['maxLength'] === 'number' ? schema['maxLength'] : 64;
  const min = typeof schema['minLength'] === 'number' ? schema['minLength'] : 0;
  const base =
    typeof schema['pattern'] === 'string'
      ? fc.stringMatching(new RegExp(schema['pattern'] as string), { size: 'small' })
      : fc.string({ minLength: min, maxLength: Math.min(max, 64) });
  return base.filter((s) => s.length <= max && s.length >= min);
}

/** Values the schema accepts (as far as patterns and bounds go). */
export function valid(schema: Json, ctx: SchemaContext, depth = 0): fc.Arbitrary<unknown> {
  if (typeof schema['$ref'] === 'string') return valid(ctx.resolve(schema['$ref']), ctx, depth);
  const alternatives = (schema['anyOf'] ?? schema['oneOf']) as Json[] | undefined;
  if (alternatives !== undefined) return fc.oneof(...alternatives.map((s) => valid(s, ctx, depth)));
  if ('const' in schema) return fc.constant(schema['const']);
  const type = Array.isArray(schema['type']) ? (schema['type'] as string[]) : [schema['type'] as string];
  if (type.length > 1) return fc.oneof(...type.map((t) => valid({ ...schema, type: t }, ctx, depth)));
  switch (type[0]) {
    case 'string':
      return strings(schema);
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'integer':
      return fc.integer({ min: (schema['minimum'] as number | undefined) ?? -1000, max: (schema['maximum'] as number | undefined) ?? 1000 });
    case 'number':
      return fc.double({ noNaN: true, noDefaultInfinity: true });
    case 'array': {
      const max = Math.min((schema['maxItems'] as number | undefined) ?? 8, depth > 0 ? 3 : 8);
      return fc.array(valid((schema['items'] as Json | undefined) ?? {}, ctx, depth + 1), { maxLength: max });
    }
    case 'object': {
      const properties = (schema['properties'] ?? {}) as Record<string, Json>;
      const required = new Set((schema['required'] ?? []) as string[]);
      const record: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [name, inner] of Object.entries(properties)) {
        const seed = ctx.seeds?.[name];
        record[name] = seed === undefined ? valid(inner, ctx, depth + 1) : fc.oneof(seed, valid(inner, ctx, depth + 1));
      }
      return fc.record(record, { requiredKeys: [...required].filter((k) => k in record) });
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/** Values built from valid ones that the schema most likely refuses, plus arbitrary JSON. */
export function mutated(schema: Json, ctx: SchemaContext): fc.Arbitrary<unknown> {
  const base = valid(schema, ctx);
  const asObject = (value: unknown): Record<string, unknown> => (value !== null && typeof value === 'object' && !Array.isArray(value) ? { ...(value as Json) } : {});
  return fc.oneof(
    fc.jsonValue({ maxDepth: 3 }),
    fc.tuple(base, fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 1 })).map(([v, key, junk]) => ({ ...asObject(v), [key === '' ? 'x' : key]: junk })),
    fc.tuple(base, fc.jsonValue({ maxDepth: 2 })).map(([v, junk]) => {
      const o = asObject(v);
      const keys = Object.keys(o);
      const key = keys[keys.length - 1];
      if (key !== undefined) o[key] = junk;
      return o;
    }),
    base.map((v) => {
      const o = asObject(v);
      const [first] = Object.keys(o);
      if (first !== undefined) delete o[first];
      return o;
    }),
  );
}
