import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';

export default defineConfig(({ mode }) => ({
  plugins: [svelte()],
  // Tauri serves ui/dist; keep the dev server where tauri.conf.json expects it.
  clearScreen: false,
  server: { port: 5173, strictPort: true },
  // WebKitGTK 2.40+ on Debian 12 handles ES2021.
  build: { target: 'es2021', outDir: 'dist', emptyOutDir: true },
  // Svelte's client build (mount) is the one jsdom tests need.
  resolve: mode === 'test' ? { conditions: ['browser'] } : undefined,
  test: { environment: 'jsdom', include: ['src/**/*.test.ts'] },
}));
