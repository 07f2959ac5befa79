// webpack 5 through its Node API, no config beyond entry and output: it ships
// `new URL('./trickle.wasm', import.meta.url)` as an asset on its own.
import webpack from 'webpack';

const compiler = webpack({
  mode: 'production',
  entry: './main.js',
  output: { path: new URL('./dist-webpack/', import.meta.url).pathname, publicPath: '/app-webpack/' },
});
// The one warning allowed: webpack's performance hint that an asset is over its
// recommended 244 KiB, which the wasm is (raw; about a third of that compressed). It
// says nothing about the package; a host can tune `performance` in its own config.
const allowed = (w) => /asset size limit|entrypoint size limit|performance recommendations/.test(w.message);
compiler.run((err, stats) => {
  const warnings = stats ? stats.compilation.warnings.filter((w) => !allowed(w)) : [];
  if (err || stats.hasErrors() || warnings.length) {
    console.error(err || stats.toString('errors-warnings'));
    process.exit(1);
  }
  compiler.close(() => {});
});
