// Docker's 8-byte stream frame (stdcopy) for non-TTY attach, exec and logs output:
// [stream id, 0, 0, 0, payload length (uint32 big-endian)] then the payload.
export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;
/** A system error: the client stops and reports the payload. */
export const SYSERR = 3;

export function frame(stream: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}
