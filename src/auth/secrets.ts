import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Secrets published with Stockroom or its examples, and the usual placeholders: anyone could sign tokens with them. */
const publishedSecrets = new Set([
  'compose-local-secret-change-me',
  'stockroom-local-development-secret',
  'stockroom-test-secret-0123456789',
  'stockroom-benchmark-secret-0123456789',
  'your-256-bit-secret',
  'your-secret-key',
  'secret',
  'changeme',
  'change-me',
  'supersecret',
  'jwt-secret',
  'password',
]);

/** HS256 keys shorter than the hash (RFC 7518 section 3.2) are refused in production. */
export const minimumSecretBytes = 32;
const minimumEstimatedBits = 128;

/** The shortest period a text repeats with (its own length when it does not repeat). */
function periodOf(text: string): number {
  for (let period = 1; period <= text.length / 2; period += 1) {
    let repeats = true;
    for (let index = period; index < text.length && repeats; index += 1) repeats = text[index] === text[index - period];
    if (repeats) return period;
  }
  return text.length;
}

/** Bits of a text estimated from how often each of its characters occurs (Shannon), times its length. */
function estimatedBits(text: string): number {
  // Code points, not graphemes: what an attacker guesses is the bytes.
  const characters = Array.from(text);
  const counts = new Map<string, number>();
  for (const character of characters) counts.set(character, (counts.get(character) ?? 0) + 1);
  let perCharacter = 0;
  for (const count of counts.values()) perCharacter -= (count / characters.length) * Math.log2(count / characters.length);
  return Math.round(perCharacter * characters.length);
}

/** Why a signing secret is unfit for production, in words an operator can act on; empty when it is fit. */
export function secretWeaknesses(secret: string): string[] {
  const weaknesses: string[] = [];
  if (publishedSecrets.has(secret.trim().toLowerCase())) weaknesses.push('is a published default or placeholder; anyone can sign tokens with it');
  const bytes = Buffer.byteLength(secret, 'utf8');
  if (bytes < minimumSecretBytes) weaknesses.push(`is ${bytes} bytes long; it needs at least ${minimumSecretBytes}`);
  if (periodOf(secret) < secret.length) weaknesses.push('repeats a short pattern');
  else if (estimatedBits(secret) < minimumEstimatedBits) {
    weaknesses.push(`has too little variety (about ${estimatedBits(secret)} bits by its character counts; at least ${minimumEstimatedBits} needed)`);
  }
  return weaknesses;
}

/**
 * The development signing secret kept in `file`: read when it exists, otherwise generated (32
 * random bytes) and written with mode 0600. Processes starting together agree on one secret: each
 * writes a file of its own and links it into place, and whoever loses the race reads the winner's.
 */
export function developmentSecret(file: string): { secret: string; created: boolean } {
  const existing = readSecretFile(file);
  if (existing) return { secret: existing, created: false };
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const draft = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(draft, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600 });
  let created = true;
  try {
    linkSync(draft, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    created = false;
  } finally {
    unlinkSync(draft);
  }
  const secret = readSecretFile(file);
  if (!secret) throw new Error(`${file} is empty; delete it to have a new development secret generated`);
  return { secret, created };
}

function readSecretFile(file: string): string | null {
  try {
    return readFileSync(file, 'utf8').trim() || null;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}
