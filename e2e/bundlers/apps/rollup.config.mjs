// Rollup: node-resolve finds the package; plugin-url turns the wasm import into a URL
// and copies the file (`limit: 0`: never inlined as a data URL).
import { nodeResolve } from '@rollup/plugin-node-resolve';
import url from '@rollup/plugin-url';

export default {
  input: 'main-wasm-url.js',
  // Any warning fails the build (the test asks for none); --silent then only hides
  // rollup's progress lines.
  onwarn(warning) {
    throw new Error(`rollup warned: ${warning.message}`);
  },
  output: { dir: 'dist', format: 'es' },
  plugins: [
    nodeResolve({ browser: true }),
    url({ include: ['**/*.wasm'], limit: 0, publicPath: '/app-rollup/', fileName: '[name][extname]' }),
  ],
};
