import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';

export default defineConfig(({ mode }) => ({
  plugins: [svelte()],
  // Tauri serves ui/dist; keep the dev server where tauri.conf.json expects it.
  clearScreen: false,
  server: { port: 5173, strictPort: true },
  // WebKitGTK 2.40+ on Debian 12 handles ES2021. `--mode web`: the web inbox (web.html) that
  // herald-hub embeds from dist-web; otherwise the desktop windows (index.html) for Tauri.
  build:
    mode === 'web'
      ? { target: 'es2021', outDir: 'dist-web', emptyOutDir: true, rollupOptions: { input: 'web.html' } }
      : { target: 'es2021', outDir: 'dist', emptyOutDir: true },
  publicDir: mode === 'web' ? 'public-web' : 'public',
  // Svelte's client build (mount) is the one jsdom tests need.
  resolve: mode === 'test' ? { conditions: ['browser'] } : undefined,
  test: { environment: 'jsdom', include: ['src/**/*.test.ts'] },
}));
