// `spot-gateway --version`: what the .deb's installed command answers (packaging/deb/test.sh).
import { readFileSync } from 'node:fs';
import test from 'ava';
import { CHILD_START_BOUND_MS, runCli, within } from '../helpers/gateway.js';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

test('--version prints package.json\'s version and exits 0', async (t) => {
  const cli = runCli(['--version']);
  t.is(await within(cli.exited, CHILD_START_BOUND_MS, '--version'), 0);
  t.is(cli.stdout(), `spot-gateway ${VERSION}\n`);
  t.is(cli.stderr(), '');
});

test('--version after a command prints the version and starts nothing', async (t) => {
  const cli = runCli(['run', '--version']);
  t.is(await within(cli.exited, CHILD_START_BOUND_MS, 'run --version'), 0);
  t.is(cli.stdout(), `spot-gateway ${VERSION}\n`);
});
