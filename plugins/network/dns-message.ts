// Just enough of the DNS wire format (RFC 1035) for the embedded resolver: one question in,
// A and AAAA records or an error code out.
import { ip6ToBig } from './cidr6.js';

export interface Question { id: number; name: string; qtype: number; /** End of the question section. */ end: number; rd: boolean }

export const TYPE_A = 1;
export const TYPE_AAAA = 28;
export const RCODE = { ok: 0, serverFailure: 2, nameError: 3 } as const;

export function parseQuestion(msg: Buffer): Question | null {
  if (msg.length < 12 || msg.readUInt16BE(4) !== 1 || msg[2] & 0x80) return null;
  const labels: string[] = [];
  let off = 12;
  for (let i = 0; i < 128; i++) {
    if (off >= msg.length) return null;
    const len = msg[off];
    if (len === 0) { off++; break; }
    if (len & 0xc0) return null;
    labels.push(msg.toString('latin1', off + 1, off + 1 + len));
    off += 1 + len;
  }
  if (off + 4 > msg.length) return null;
  return { id: msg.readUInt16BE(0), name: labels.join('.').toLowerCase(), qtype: msg.readUInt16BE(off), end: off + 4, rd: Boolean(msg[2] & 0x01) };
}

/** The answer to `query`: its question echoed, then one record per address (A for IPv4, AAAA for IPv6). */
export function answer(query: Buffer, q: Question, rcode: number, addresses: string[] = [], ttl = 600): Buffer {
  const head = Buffer.alloc(12);
  head.writeUInt16BE(q.id, 0);
  head.writeUInt16BE(0x8000 | (q.rd ? 0x0100 : 0) | 0x0080 | rcode, 2);
  head.writeUInt16BE(1, 4);
  head.writeUInt16BE(addresses.length, 6);
  const records = addresses.map((ip) => {
    const v6 = ip.includes(':');
    const r = Buffer.alloc(v6 ? 28 : 16);
    r.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
    r.writeUInt16BE(v6 ? TYPE_AAAA : TYPE_A, 2);
    r.writeUInt16BE(1, 4);
    r.writeUInt32BE(ttl, 6);
    r.writeUInt16BE(v6 ? 16 : 4, 10);
    if (v6) {
      const n = ip6ToBig(ip);
      for (let i = 0; i < 16; i++) r.writeUInt8(Number((n >> BigInt(120 - 8 * i)) & 0xffn), 12 + i);
    } else {
      ip.split('.').forEach((b, i) => r.writeUInt8(Number(b), 12 + i));
    }
    return r;
  });
  return Buffer.concat([head, query.subarray(12, q.end), ...records]);
}
