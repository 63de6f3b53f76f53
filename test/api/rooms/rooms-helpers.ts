import { crc32, deflateSync } from 'node:zlib';
import { JsonSocket } from '../../support/ws-client.js';
import { tokenFor, type TestServer, type TestUser } from '../../support/test-server.js';

function chunk(type: string, data: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A real PNG (8-bit RGBA), built chunk by chunk: signature, IHDR, one IDAT, IEND. */
export function makePng(width = 1, height = 1): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 6, 0, 0, 0], 8);
  const row = Buffer.concat([Buffer.from([0]), Buffer.alloc(width * 4, 0x7f)]);
  const pixels = Buffer.concat(Array.from({ length: height }, () => row));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(pixels)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A valid 1x1 PNG. */
export const PNG = makePng();

let external = 0;
/** A user as an external identity provider would send it: a numeric `sub`, no profile claims. */
export async function externalUser(prefix = 9000): Promise<TestUser> {
  const id = String(prefix * 1000 + process.pid % 1000 * 10 + ++external);
  return { id, token: await tokenFor(id), username: `ext${id}` };
}

export interface FormPart {
  readonly json?: unknown;
  /** Sent as is when a string (to test non-JSON), else JSON-encoded. */
  readonly rawJson?: string;
  readonly photo?: Uint8Array;
  readonly photoType?: string;
}

/** A multipart request as a browser's FormData sends it. */
export async function sendForm(t: TestServer, user: TestUser | null, path: string, part: FormPart): Promise<{ status: number; body: any }> {
  const form = new FormData();
  if (part.rawJson !== undefined) form.append('json', part.rawJson);
  else if (part.json !== undefined) form.append('json', JSON.stringify(part.json));
  if (part.photo) form.append('photo', new Blob([part.photo], { type: part.photoType ?? 'image/png' }), 'photo.png');
  const res = await fetch(`${t.url}${path}`, {
    method: 'POST',
    headers: user ? { authorization: `Bearer ${user.token}` } : {},
    body: form,
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // keep text
  }
  return { status: res.status, body };
}

/** Opens a `rooms` socket with the token in the Authorization header (or none). */
export function roomsSocket(t: TestServer, path: string, user: TestUser | null): Promise<JsonSocket> {
  return JsonSocket.open(`${t.wsUrl}${path}`, user ? { token: user.token } : {});
}

/** The HTTP status a refused upgrade got. */
export async function refusedWith(promise: Promise<JsonSocket>): Promise<number> {
  try {
    const socket = await promise;
    socket.close();
    return 101;
  } catch (err) {
    return (err as { status?: number }).status ?? -1;
  }
}
