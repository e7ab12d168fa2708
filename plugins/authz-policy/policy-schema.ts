// The policy file's JSON Schema. JSON only: a YAML parser would be a new dependency for a file
// operators write once; JSON is what daemon.json already is.
import type { JsonSchema } from '../../core/plugin-api.js';

const strings = { type: 'array', items: { type: 'string' }, minItems: 1 };

export const policySchema: JsonSchema = {
  type: 'object',
  required: ['default', 'rules'],
  additionalProperties: false,
  properties: {
    $schema: { type: 'string' },
    description: { type: 'string' },
    default: { enum: ['allow', 'deny'] },
    defaultMessage: { type: 'string' },
    rules: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'action'],
        additionalProperties: false,
        properties: {
          name: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$' },
          action: { enum: ['allow', 'deny'] },
          message: { type: 'string' },
          users: { type: 'array', items: { type: 'string' }, minItems: 1 },
          methods: { type: 'array', items: { enum: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] }, minItems: 1 },
          paths: { type: 'array', items: { type: 'string', pattern: '^/' }, minItems: 1 },
          body: {
            type: 'object',
            additionalProperties: false,
            minProperties: 1,
            properties: {
              privileged: { type: 'boolean' },
              binds: { ...strings, items: { type: 'string', pattern: '^(/|\\$DAEMON_SOCKET$)' } },
              capAdd: strings,
              imageNotIn: strings,
              networkMode: strings,
              fields: { type: 'object', minProperties: 1 },
            },
          },
        },
      },
    },
  },
};
