// Adapts the protocol's command validation to one reason naming the key(s) at fault.
import { validateCommand } from '../protocol/index.js';
import type { CommandBody, CommandCheck } from './commands.js';

export const checkCommand: CommandCheck = (command: CommandBody) => {
  const checked = validateCommand(command.resource, command.action, command.data);
  if (checked.ok) return { ok: true };
  const reason = checked.errors.map((e) => (e.key ? `data.${e.key}: ${e.reason}` : e.reason)).join('; ');
  return { ok: false, reason: `${command.resource} ${command.action}: ${reason}` };
};
