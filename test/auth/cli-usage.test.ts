// The credential commands' refusals, run in-process (the child-process runs are in cli.test.ts): each names what is missing or wrong.
import test from 'ava';
import { runCli, type CliIo } from '../../gateway/src/cli/index.js';
import { tempDir } from '../helpers/gateway.js';

function io(dataDir: string, input = ''): CliIo & { text(): { out: string; err: string } } {
  let out = '';
  let err = '';
  return {
    out: (s) => void (out += s),
    err: (s) => void (err += s),
    env: { SPOT_GATEWAY_DATA_DIR: dataDir },
    cwd: dataDir,
    stdin: () => Promise.resolve(input),
    text: () => ({ out, err }),
  };
}

const cases: Array<[string[], number, RegExp]> = [
  [['user', 'add'], 2, /user add NAME: the name is missing/],
  [['user', 'add', 'ann'], 2, /--role viewer\|admin is required/],
  [['user', 'remove'], 2, /user remove NAME: the name is missing/],
  [['apikey', 'create'], 2, /apikey create NAME: the name is missing/],
  [['apikey', 'create', 'x'], 2, /--role viewer\|admin is required/],
  [['apikey', 'revoke', '7'], 1, /no live API key 7/],
  [['apikey', 'revoke'], 2, /ID "" is not a number/],
  [['apikey', 'frobnicate'], 2, /unknown command "apikey frobnicate"/],
  [['token', 'frobnicate'], 2, /unknown command "token frobnicate"/],
  [['token', 'create', '--bogus'], 2, /Unknown option '--bogus'/],
];

for (const [args, code, message] of cases) {
  test(`spot-gateway ${args.join(' ')} exits ${code}: ${message.source}`, async (t) => {
    const run = io(tempDir(t));
    t.is(await runCli(args, run), code);
    t.regex(run.text().err, message);
  });
}

test('user add with the password on stdin, then list; a site token with token create; a password with no input is too short', async (t) => {
  const dir = tempDir(t);
  const add = io(dir, 'a long password\r\nignored second line');
  t.is(await runCli(['user', 'add', 'vic', '--role', 'viewer'], add), 0);
  const list = io(dir);
  t.is(await runCli(['user', 'list'], list), 0);
  t.regex(list.text().out, /^vic +viewer /m);
  const token = io(dir);
  t.is(await runCli(['token', 'create'], token), 0);
  t.regex(token.text().err, /token 1 \(site token\)/);
  const empty = io(dir);
  t.is(await runCli(['user', 'add', 'bob', '--role', 'viewer'], { ...empty, stdin: undefined }), 2);
  t.regex(empty.text().err, /password: at least 10 characters/);
});
