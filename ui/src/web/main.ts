// The web inbox's entry point (web.html), served by herald-hub at `/`.
import { mount } from 'svelte';
import { HttpBackend } from '../lib/backend/http';
import type { SocketLike } from '../lib/web/feed';
import { Api } from '../lib/web/api';
import { Tabs } from '../lib/web/tabs';
import '../theme.css';
import WebApp from './WebApp.svelte';

const feedBase = location.origin.replace(/^http/, 'ws');
const backend = new HttpBackend({
  api: new Api(),
  tabs: Tabs.inBrowser(),
  openSocket: (url) => new WebSocket(url) as unknown as SocketLike,
  feedUrl: (since) => `${feedBase}/v1/feed?since=${since}`,
  notify: (note, onclick) => {
    if (typeof Notification !== 'function' || Notification.permission !== 'granted') return;
    // Text only: a notification's title and body are never markup.
    const shown = new Notification(note.title, { body: note.body, tag: note.tag });
    shown.onclick = () => {
      window.focus();
      onclick();
      shown.close();
    };
  },
});

mount(WebApp, { target: document.getElementById('app')!, props: { backend } });
