// Runs before node-gyp: a missing oneDNN would otherwise fail deep inside the C++ build.
import { existsSync } from 'node:fs';

const headers = ['/usr/include/oneapi/dnnl/dnnl.hpp', '/usr/include/dnnl.hpp'];
if (!headers.some((h) => existsSync(h))) {
  console.error('cream-ts: oneDNN not found (no dnnl.hpp): install it with `apt-get install -y libdnnl-dev`');
  process.exit(1);
}
