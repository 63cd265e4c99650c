// Scenarios for the simulated reader shared by the firmware integration tests, with the presences each must give.
import { api } from '../helpers/gateway.js';

export interface StoredEvent {
  id: number;
  spot: string;
  resource: string;
  action: string;
  data: Record<string, unknown>;
}

/** Two RFID tags and a Bluetooth device with margins of 5 dBm or more around every threshold
 * (rfid_immediate -450, rfid_near -600, bt_near -75), so read noise never flips a proximity. */
export const SCENARIO = `# test scenario: tags with clear proximities
seed 7
rate 100
at 0 tag e28011700000020a1b2c3d11 enter antenna 1 rssi -380
at 300 tag e28011700000020a1b2c3d12 enter antenna 2 rssi -720
at 600 ble c0ffee0000a1 enter antenna 1 rssi -65
at 1500 tag e28011700000020a1b2c3d12 move rssi -520
at 2500 tag e28011700000020a1b2c3d11 leave
at 3000 ble c0ffee0000a1 leave
at 3500 tag e28011700000020a1b2c3d12 leave
`;

export const EXPECTED = [
  'create e28011700000020a1b2c3d11 immediate',
  'create e28011700000020a1b2c3d12 far',
  'create c0ffee0000a1 near',
  'update e28011700000020a1b2c3d12 near',
  'delete e28011700000020a1b2c3d11 immediate',
  'delete c0ffee0000a1 near',
  'delete e28011700000020a1b2c3d12 near',
];

/** Events spread over 12 s so that some happen while the gateway is down; a delete comes about 2 s
 * (the automatic hold delay) after its leave, and no two events are closer than 0.7 s. */
export const LONG_SCENARIO = `seed 11
rate 100
at 0 tag e28011700000020a1b2c3d21 enter antenna 1 rssi -380
at 1000 tag e28011700000020a1b2c3d22 enter antenna 1 rssi -720
at 2000 tag e28011700000020a1b2c3d23 enter antenna 2 rssi -520
at 2500 tag e28011700000020a1b2c3d21 leave
at 3500 tag e28011700000020a1b2c3d24 enter antenna 1 rssi -400
at 4800 tag e28011700000020a1b2c3d23 leave
at 5500 tag e28011700000020a1b2c3d22 move rssi -520
at 7000 tag e28011700000020a1b2c3d24 leave
at 7800 tag e28011700000020a1b2c3d25 enter antenna 2 rssi -700
at 8500 tag e28011700000020a1b2c3d22 leave
at 10000 tag e28011700000020a1b2c3d25 leave
`;

export const LONG_EXPECTED = [
  'create e28011700000020a1b2c3d21 immediate',
  'create e28011700000020a1b2c3d22 far',
  'create e28011700000020a1b2c3d23 near',
  'create e28011700000020a1b2c3d24 immediate',
  'delete e28011700000020a1b2c3d21 immediate',
  'update e28011700000020a1b2c3d22 near',
  'delete e28011700000020a1b2c3d23 near',
  'create e28011700000020a1b2c3d25 far',
  'delete e28011700000020a1b2c3d24 immediate',
  'delete e28011700000020a1b2c3d22 near',
  'delete e28011700000020a1b2c3d25 far',
];

/** "<action> <item_code> <proximity>" of every presence event, in order. */
export function presences(events: StoredEvent[]): string[] {
  return events
    .filter((e) => e.resource === 'presence')
    .map((e) => `${e.action} ${String(e.data.item_code)} ${String(e.data.proximity)}`);
}

/** Every event the gateway stored for one spot, in the order it stored them. */
export async function storedEvents(gateway: { url: string }, serial: number): Promise<StoredEvent[]> {
  const { status, body } = await api<StoredEvent[]>(gateway.url, `/api/events?spot=${serial}&limit=10000`);
  if (status !== 200) throw new Error(`GET /api/events answered ${status}`);
  return body;
}
