import react from "@vitejs/plugin-react"
import { fileURLToPath } from "node:url"
import { defineConfig } from "vite"

// The console is served by the service under /console (src/Console/Routes.ts) from dist/console.
export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "/console/",
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL("../dist/console", import.meta.url)),
    emptyOutDir: true,
    assetsDir: "assets",
    target: "es2022",
    reportCompressedSize: true,
    // One chunk by design (the typed client is most of it); test/console.test.ts bounds it compressed.
    chunkSizeWarningLimit: 900
  },
  server: { proxy: { "/api": "http://localhost:5050", "/media-stream": { target: "ws://localhost:5050", ws: true } } }
})
