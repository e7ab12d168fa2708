// The network.create payload: the body of POST /networks/create, the fields the controller reads.
// As dockerd's decoder: null leaves a field unset, unknown keys (CheckDuplicate …) are ignored.
const str = { type: ['string', 'null'] };
const bool = { type: ['boolean', 'null'] };
const strMap = { type: ['object', 'null'], additionalProperties: { type: 'string' } };

export const createSchema = {
  type: 'object', required: ['config'],
  properties: {
    config: {
      type: 'object',
      properties: {
        Name: str, Driver: str, Scope: str, Internal: bool, Attachable: bool, Ingress: bool, ConfigOnly: bool, EnableIPv6: bool, Options: strMap, Labels: strMap,
        ConfigFrom: { type: ['object', 'null'], properties: { Network: str } },
        IPAM: {
          type: ['object', 'null'],
          properties: {
            Driver: str, Options: strMap,
            Config: { type: ['array', 'null'], items: { type: 'object', properties: { Subnet: str, Gateway: str, IPRange: str } } },
          },
        },
      },
    },
  },
};
