// A static export, served by the e2e server under /app-next/. turbopack.root: this
// test app sits inside the repository, whose own lockfile would otherwise make Next.js
// guess (and warn about) the workspace root; a standalone app needs no such line.
import { fileURLToPath } from 'node:url';

export default {
  output: 'export',
  basePath: '/app-next',
  trailingSlash: true,
  turbopack: { root: fileURLToPath(new URL('../../..', import.meta.url)) },
};
