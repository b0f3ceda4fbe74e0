// Vitest exposes Vite's import.meta.env in process.env, including BASE_URL ("/"). That name
// is part of Nexus's own environment contract (the public URL), and CLI and server
// processes spawned by tests inherit process.env: remove it, so they see only what a test sets.
delete process.env.BASE_URL;
