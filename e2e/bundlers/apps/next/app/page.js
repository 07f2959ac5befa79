// A server component: importing the package here must not throw (nothing in it
// touches the browser at import time).
import { destroy } from 'trickle-widget';
import Widget from './widget.js';

export default function Page() {
  return (
    <main>
      <h1>Acme</h1>
      <p>Server-rendered; the package imported here too ({typeof destroy}).</p>
      <Widget />
    </main>
  );
}
