// What this machine lets the tests do to files: chattr +i (read-only even for root), tmpfs mounts (disk full).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** True when the command ran and exited 0. */
export function can(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Tries chattr and a tmpfs mount on a scratch directory (both need root; chattr also ext4 or similar). */
export function probePrivileges(): { canChattr: boolean; canMount: boolean } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spot-probe-'));
  const file = path.join(dir, 'f');
  fs.writeFileSync(file, '');
  const canChattr = can('chattr', ['+i', file]) && can('chattr', ['-i', file]);
  const canMount = can('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir]) && can('umount', [dir]);
  fs.rmSync(dir, { recursive: true, force: true });
  return { canChattr, canMount };
}
