import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

/** A JSON value at a place in the document, and the JSON pointer of the schema it must match. */
export type DocumentedExample = { where: string; schemaPointer: string; value: unknown };

const escapePointer = (segment: string) => segment.replace(/~/g, '~0').replace(/\//g, '~1');

/**
 * Validates values against schemas of an OpenAPI 3.1 document (JSON Schema 2020-12), references
 * resolved within the document. Returns the errors, empty when the value matches.
 */
export function documentValidator(document: object): (schemaPointer: string, value: unknown) => string[] {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema(document, 'openapi');
  return (schemaPointer, value) => {
    const validate = ajv.compile({ $ref: `openapi#${schemaPointer}` });
    return validate(value) ? [] : (validate.errors ?? []).map((error) => `${error.instancePath || '/'} ${error.message ?? ''}`);
  };
}

type Media = { schema?: object; example?: unknown; examples?: Record<string, { value: unknown }> };
type Operation = {
  requestBody?: { content: Record<string, Media> };
  parameters?: { name: string; in: string; schema?: { example?: unknown }; example?: unknown }[];
  responses: Record<string, { content?: Record<string, Media> }>;
};

/** Every example of a request body, an answer or a component schema, with the schema it illustrates. */
export function documentedExamples(document: {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, { example?: unknown; examples?: unknown[] }> };
}): DocumentedExample[] {
  const found: DocumentedExample[] = [];
  const fromMedia = (where: string, pointer: string, content: Record<string, Media> | undefined) => {
    for (const [type, media] of Object.entries(content ?? {})) {
      const schemaPointer = `${pointer}/content/${escapePointer(type)}/schema`;
      if (media.example !== undefined) found.push({ where: `${where} ${type}`, schemaPointer, value: media.example });
      for (const [name, example] of Object.entries(media.examples ?? {}))
        found.push({ where: `${where} ${type} ${name}`, schemaPointer, value: example.value });
    }
  };
  for (const [path, methods] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      const base = `/paths/${escapePointer(path)}/${method}`;
      fromMedia(`${method.toUpperCase()} ${path} body`, `${base}/requestBody`, operation.requestBody?.content);
      for (const [status, answer] of Object.entries(operation.responses))
        fromMedia(`${method.toUpperCase()} ${path} ${status}`, `${base}/responses/${status}`, answer.content);
    }
  }
  for (const [name, schema] of Object.entries(document.components.schemas)) {
    const schemaPointer = `/components/schemas/${escapePointer(name)}`;
    if (schema.example !== undefined) found.push({ where: `component ${name}`, schemaPointer, value: schema.example });
    for (const value of schema.examples ?? []) found.push({ where: `component ${name}`, schemaPointer, value });
  }
  return found;
}
