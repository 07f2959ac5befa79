'use client';
// The widget in a client component: init once mounted, as the README shows.
import { useEffect, useState } from 'react';
import { destroy, explain, init } from 'trickle-widget';

export default function Widget() {
  const [status, setStatus] = useState('loading');
  useEffect(() => {
    let live = true;
    (async () => {
      const config = await (await fetch('/pages/config.json')).json();
      const id = new URLSearchParams(location.search).get('user') ?? 'next|1';
      try {
        await init({ ...config, user: { id, loginsCount: 1 } });
        const { questions } = await explain();
        if (live) setStatus(`ready: ${questions.length} questions`);
      } catch (e) {
        if (live) setStatus(`failed: ${e.message}`);
      }
    })();
    return () => {
      live = false;
      destroy();
    };
  }, []);
  return <p id="status">{status}</p>;
}
