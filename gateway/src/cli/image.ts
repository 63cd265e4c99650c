// `spot-gateway image keygen|sign|verify|info`: the edge where files are read and written;
// the work is done by the pure modules in gateway/src/firmware/ (docs/firmware-image.md).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { exitCodeOf } from '../firmware/image-failures.js';
import { DEFAULT_HEADER_SIZE, formatVersion, parseImage, parseVersion } from '../firmware/image-format.js';
import { describeImage, type ImageInfo } from '../firmware/image-info.js';
import { checkTargetName, DEFAULT_TARGET, signImage } from '../firmware/image-sign.js';
import { verifyImage } from '../firmware/image-verify.js';
import { generateSigningKeyPair, keyHash, readPrivateKey, readPublicKey, type KeyResult } from '../firmware/keys.js';
import type { CliIo } from './index.js';

const EXIT_USAGE = 2;
const EXIT_UNREADABLE = 3;

export const IMAGE_HELP = `Usage: spot-gateway image <command> ...

MCUboot images for the spots (docs/firmware-image.md):
  image keygen --out PREFIX                 new ed25519 signing key: PREFIX.pem, PREFIX.pub.pem
  image sign --key PREFIX --version X.Y.Z[+B] IN.bin OUT.img
  image verify --pub PREFIX.pub IMAGE       exit 0 only for a good image
  image info [--json] IMAGE                 version, size, hash, target, key hash

  spot-gateway image <command> --help       help on a command
`;

const KEYGEN_HELP = `Usage: spot-gateway image keygen --out PREFIX

Writes a new ed25519 key pair as imgtool keygen -t ed25519 does:
  PREFIX.pem      private key, PEM PKCS#8, mode 0600: keep it secret and backed up
  PREFIX.pub.pem  public key, PEM SubjectPublicKeyInfo (for verify and the bootloader)
Refuses to overwrite an existing file. Prints the key hash images will carry.

Options:
  -o, --out PREFIX  where to write the two files
  -h, --help        this help
`;

const SIGN_HELP = `Usage: spot-gateway image sign --key PREFIX --version X.Y.Z[+B] [options] IN.bin OUT.img

Makes an MCUboot image of IN.bin: header, protected target TLV, SHA-256, key hash and
ed25519 signature of the SHA-256 digest, laid out as imgtool sign lays it out.

Options:
  -k, --key PREFIX          private key file, or PREFIX with .pem added
  -v, --version X.Y.Z[+B]   image version (later parts optional)
  -t, --target NAME         target the image is for (default ${DEFAULT_TARGET})
      --no-target           write no target TLV (images for other MCUboot devices)
  -H, --header-size N       header room in bytes, hex or decimal (default 0x${DEFAULT_HEADER_SIZE.toString(16)})
      --pad-header          put the header room in front of IN.bin (filled with 0xff);
                            without it IN.bin must begin with that many zero bytes
  -h, --help                this help
`;

const VERIFY_HELP = `Usage: spot-gateway image verify --pub PREFIX.pub [--target NAME] [--require-target] IMAGE

Checks IMAGE as MCUboot does before booting it, and its target. Exit 0 and one line on
stdout for a good image; otherwise one line "IMAGE: <reason>: <detail>" on stderr and
the reason's exit code: 10 bad-magic, 11 truncated, 12 bad-header, 13 tlv-damaged,
14 unprotected-tlv, 15 no-hash, 16 hash-mismatch, 17 unsigned, 18 unknown-key,
19 bad-signature, 20 wrong-target, 21 no-target; 3 a file cannot be read, 2 usage.

Options:
  -p, --pub PREFIX.pub   public key file (or a private key), or the name with .pem added
  -t, --target NAME      the target the image must be for when it names one (default ${DEFAULT_TARGET})
      --require-target   also refuse an image that names no target
  -h, --help             this help
`;

const INFO_HELP = `Usage: spot-gateway image info [--json] IMAGE

Prints what IMAGE says about itself: version, header and body size, flags, the SHA-256
TLV and whether it matches, target, signing key hash, signature type, TLV types, bytes
after the image. Needs no key and does not judge the signature. Exit 0 when the image
parses, else the exit code of the failure (see image verify --help).

Options:
      --json   one JSON object
  -h, --help   this help
`;

type Values = Record<string, string | boolean | undefined>;
type Command = { help: string; options: NonNullable<ParseArgsConfig['options']>; positionals: string[]; run(values: Values, args: string[], io: CliIo): number };

function fail(io: CliIo, message: string, code: number): number {
  io.err(`spot-gateway: ${message}\n`);
  return code;
}

function resolvePath(io: CliIo, file: string): string {
  return path.resolve(io.cwd, file);
}

function readFile(io: CliIo, file: string): Buffer | string {
  try {
    return readFileSync(resolvePath(io, file));
  } catch (err) {
    return `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
  }
}

/** A key given as a file, or as a name to which `.pem` is added. */
function loadKey(io: CliIo, given: string, read: (pem: Buffer) => KeyResult): KeyResult & { file: string } {
  const givenExists = existsSync(resolvePath(io, given));
  const file = givenExists || !existsSync(resolvePath(io, `${given}.pem`)) ? given : `${given}.pem`;
  const bytes = readFile(io, file);
  if (typeof bytes === 'string') return { ok: false, reason: givenExists ? bytes : `${bytes} (nor ${given}.pem)`, file };
  const key = read(bytes);
  return key.ok ? { ...key, file } : { ok: false, reason: `${file}: ${key.reason}`, file };
}

function parseHeaderSize(text: string): number | null {
  if (/^0x[0-9a-f]+$/i.test(text)) return parseInt(text.slice(2), 16);
  if (/^\d+$/.test(text)) return parseInt(text, 10);
  return null;
}

const keygen: Command = {
  help: KEYGEN_HELP,
  options: { out: { type: 'string', short: 'o' } },
  positionals: [],
  run(values, _args, io) {
    const prefix = values.out as string;
    const privateFile = `${prefix}.pem`;
    const publicFile = `${prefix}.pub.pem`;
    for (const file of [privateFile, publicFile]) {
      if (existsSync(resolvePath(io, file))) return fail(io, `${file} exists; not overwriting a key (choose another --out)`, EXIT_UNREADABLE);
    }
    const pair = generateSigningKeyPair();
    try {
      writeFileSync(resolvePath(io, privateFile), pair.privatePem, { flag: 'wx', mode: 0o600 });
      writeFileSync(resolvePath(io, publicFile), pair.publicPem, { flag: 'wx', mode: 0o644 });
    } catch (err) {
      return fail(io, `cannot write the key: ${(err as Error).message}`, EXIT_UNREADABLE);
    }
    const pub = readPublicKey(pair.publicPem);
    const hash = pub.ok ? keyHash(pub.key).toString('hex') : '?';
    io.out(`wrote ${privateFile} (private, mode 0600: keep it secret) and ${publicFile}; key hash ${hash}\n`);
    return 0;
  },
};

const sign: Command = {
  help: SIGN_HELP,
  options: {
    key: { type: 'string', short: 'k' },
    version: { type: 'string', short: 'v' },
    target: { type: 'string', short: 't' },
    'no-target': { type: 'boolean' },
    'header-size': { type: 'string', short: 'H' },
    'pad-header': { type: 'boolean' },
  },
  positionals: ['IN.bin', 'OUT.img'],
  run(values, [input, output], io) {
    if (values.key === undefined || values.version === undefined) return fail(io, `image sign needs --key and --version\n\n${SIGN_HELP}`, EXIT_USAGE);
    if (values['no-target'] && values.target !== undefined) return fail(io, 'image sign: --target and --no-target exclude each other', EXIT_USAGE);
    const version = parseVersion(values.version as string);
    if (typeof version === 'string') return fail(io, version, EXIT_USAGE);
    const headerSize = values['header-size'] === undefined ? DEFAULT_HEADER_SIZE : parseHeaderSize(values['header-size'] as string);
    if (headerSize === null) return fail(io, `--header-size "${values['header-size']}" is not a number (e.g. 0x200)`, EXIT_USAGE);
    const target = values['no-target'] ? null : ((values.target as string | undefined) ?? DEFAULT_TARGET);
    if (target !== null && checkTargetName(target)) return fail(io, checkTargetName(target)!, EXIT_USAGE);
    const key = loadKey(io, values.key as string, readPrivateKey);
    if (!key.ok) return fail(io, key.reason, EXIT_UNREADABLE);
    const bytes = readFile(io, input!);
    if (typeof bytes === 'string') return fail(io, bytes, EXIT_UNREADABLE);
    const signed = signImage({ input: bytes, version, privateKey: key.key, target, headerSize, padHeader: values['pad-header'] === true });
    if (!signed.ok) return fail(io, `${input}: ${signed.reason}`, EXIT_USAGE);
    try {
      writeFileSync(resolvePath(io, output!), signed.image);
    } catch (err) {
      return fail(io, `cannot write ${output}: ${(err as Error).message}`, EXIT_UNREADABLE);
    }
    io.out(`${output}: version ${formatVersion(version)}, body ${signed.imgSize} bytes, target ${target ?? 'none'}, hash ${signed.hash.toString('hex')}\n`);
    return 0;
  },
};

const verify: Command = {
  help: VERIFY_HELP,
  options: { pub: { type: 'string', short: 'p' }, target: { type: 'string', short: 't' }, 'require-target': { type: 'boolean' } },
  positionals: ['IMAGE'],
  run(values, [file], io) {
    if (values.pub === undefined) return fail(io, `image verify needs --pub\n\n${VERIFY_HELP}`, EXIT_USAGE);
    const key = loadKey(io, values.pub as string, readPublicKey);
    if (!key.ok) return fail(io, key.reason, EXIT_UNREADABLE);
    const bytes = readFile(io, file!);
    if (typeof bytes === 'string') return fail(io, bytes, EXIT_UNREADABLE);
    const expectedTarget = (values.target as string | undefined) ?? DEFAULT_TARGET;
    const result = verifyImage(bytes, { publicKey: key.key, expectedTarget, requireTarget: values['require-target'] === true });
    if (!result.ok) return fail(io, `${file}: ${result.reason}: ${result.detail}`, exitCodeOf(result.reason));
    const version = formatVersion(result.image.header.version);
    io.out(`${file}: good (version ${version}, target ${result.target ?? 'none'}, key ${keyHash(key.key).toString('hex')}, hash ${result.hash.toString('hex')})\n`);
    return 0;
  },
};

function infoText(file: string, info: ImageInfo): string {
  const types = (list: number[]): string => (list.length ? list.map((t) => `0x${t.toString(16).padStart(2, '0')}`).join(' ') : 'none');
  return [
    `image:        ${file}`,
    `version:      ${info.version}`,
    `header size:  ${info.headerSize} (0x${info.headerSize.toString(16)})`,
    `body size:    ${info.imageSize}`,
    `load address: 0x${info.loadAddr.toString(16).padStart(8, '0')}`,
    `flags:        ${info.flags.length ? info.flags.join(' ') : 'none'}`,
    `hash:         ${info.hash ?? 'none'} (${info.hashMatches ? 'matches' : 'DOES NOT MATCH'})`,
    `target:       ${info.target ?? 'none'}`,
    `key hash:     ${info.keyHashes.length ? info.keyHashes.join(' ') : 'none'}`,
    `signature:    ${info.signatures.length ? info.signatures.join(' ') : 'none'}`,
    `protected:    ${types(info.protectedTlvs)}`,
    `unprotected:  ${types(info.unprotectedTlvs)}`,
    `after image:  ${info.trailingBytes} bytes`,
  ].join('\n') + '\n';
}

const info: Command = {
  help: INFO_HELP,
  options: { json: { type: 'boolean' } },
  positionals: ['IMAGE'],
  run(values, [file], io) {
    const bytes = readFile(io, file!);
    if (typeof bytes === 'string') return fail(io, bytes, EXIT_UNREADABLE);
    const parsed = parseImage(bytes);
    if (!parsed.ok) return fail(io, `${file}: ${parsed.reason}: ${parsed.detail}`, exitCodeOf(parsed.reason));
    const described = describeImage(parsed.image);
    io.out(values.json ? `${JSON.stringify({ file, ...described })}\n` : infoText(file!, described));
    return 0;
  },
};

const COMMANDS: Record<string, Command> = { keygen, sign, verify, info };

/** Runs `image <command> ...` (args after "image"); resolves with the exit code. */
export function runImageCli(args: string[], io: CliIo): number {
  const [name, ...rest] = args;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? io.err : io.out)(IMAGE_HELP);
    return name === undefined ? EXIT_USAGE : 0;
  }
  const command = COMMANDS[name];
  if (!command) return fail(io, `unknown command "image ${name}"\n\n${IMAGE_HELP}`, EXIT_USAGE);
  let values: Values;
  let positionals: string[];
  try {
    const parsed = parseArgs({ args: rest, allowPositionals: true, options: { ...command.options, help: { type: 'boolean', short: 'h' } } });
    values = parsed.values;
    positionals = parsed.positionals;
  } catch (err) {
    return fail(io, `image ${name}: ${(err as Error).message}\n\n${command.help}`, EXIT_USAGE);
  }
  if (values.help) {
    io.out(command.help);
    return 0;
  }
  if (positionals.length !== command.positionals.length) {
    const wanted = command.positionals.length ? command.positionals.join(' ') : 'no file arguments';
    return fail(io, `image ${name} takes ${wanted}\n\n${command.help}`, EXIT_USAGE);
  }
  if (name === 'keygen' && values.out === undefined) return fail(io, `image keygen needs --out PREFIX\n\n${KEYGEN_HELP}`, EXIT_USAGE);
  return command.run(values, positionals, io);
}
