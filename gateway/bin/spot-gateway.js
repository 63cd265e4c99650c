#!/usr/bin/env node
// The spot-gateway command: runs the compiled CLI (build first: make build).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = new URL('../dist/cli/index.js', import.meta.url);
if (!existsSync(fileURLToPath(cli))) {
  process.stderr.write('spot-gateway: gateway/dist is missing; build it first with `make build` (or npx tsc -p tsconfig.json)\n');
  process.exit(2);
}
// A reader that went away (`spot-gateway tap ... | head`) ends the command quietly, as it ends cat or grep.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});
const { runCli } = await import(cli.href);
process.exit(await runCli(process.argv.slice(2)));
