import { mount } from 'svelte';
import App from './App.svelte';
import { tauriBackend } from './lib/backend/tauri';

mount(App, { target: document.getElementById('app')!, props: { backend: tauriBackend } });
