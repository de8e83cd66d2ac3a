import fs from 'node:fs';

/** Debian's libnginx-mod-stream: the rendered configs load it for TCP listeners. */
const STREAM_MODULE = '/usr/lib/nginx/modules/ngx_stream_module.so';

/**
 * True when nginx and its stream module are installed; missing locally, the nginx tests are skipped,
 * but under CI=true (where .ci/run installs them) that is an error.
 */
export function hasNginxWithStream(hasNginx: boolean): boolean {
  const found = fs.existsSync(STREAM_MODULE);
  if (hasNginx && !found && process.env.CI === 'true')
    throw new Error(`${STREAM_MODULE} is required under CI=true; install libnginx-mod-stream`);
  return hasNginx && found;
}
