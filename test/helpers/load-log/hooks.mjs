// The module hooks of register.mjs (they run on node's loader thread).
import { appendFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export async function load(url, context, next) {
  if (url.startsWith('file:')) appendFileSync(process.env.HACTL_LOAD_LOG, `esm ${fileURLToPath(url)}\n`);
  return next(url, context);
}
