import { mount } from 'svelte';
import App from './App.svelte';
import { tauriBackend } from './lib/backend/tauri';
import Panel from './Panel.svelte';
import Settings from './Settings.svelte';
import './theme.css';

// herald-ui opens each window at index.html?window=<label> (src-tauri/src/windows.rs).
const target = document.getElementById('app')!;
const props = { backend: tauriBackend };
switch (new URLSearchParams(location.search).get('window')) {
  case 'panel':
    document.title = 'Herald';
    mount(Panel, { target, props });
    break;
  case 'settings':
    document.title = 'Herald — Settings';
    mount(Settings, { target, props });
    break;
  default:
    mount(App, { target, props });
}
