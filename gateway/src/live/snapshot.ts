// The live feed's status frame: /api/status, the health reasons of /healthz, and each spot with its activity.
import type { SpotRecord } from '../store/types.js';
import type { SpotActivity } from './spot-activity.js';

export interface SnapshotSources {
  status: () => Record<string, unknown>;
  /** What makes /healthz say degraded; empty when ok. */
  healthProblems: () => string[];
  /** The first `limit` spots in serial order (a page of the registry). */
  spots: (limit: number) => SpotRecord[];
  isOnline: (serial: string) => boolean;
  activity: SpotActivity;
  /** Flash jobs queued or running, with their progress (docs/firmware-store.md). */
  flashJobs?: () => readonly unknown[];
  now: () => number;
}

/**
 * Spots a status frame carries at most, the first in serial order (as GET /api/spots pages them):
 * a frame goes out every second, so a site of many thousand spots shows the first page and its count
 * (status.spots.known), not the whole registry each second.
 */
export const LIVE_SPOTS = 1000;

export function liveSnapshot(sources: SnapshotSources): Record<string, unknown> {
  const problems = sources.healthProblems();
  return {
    time: sources.now(),
    health: { status: problems.length > 0 ? 'degraded' : 'ok', reasons: problems },
    status: sources.status(),
    spots: sources.spots(LIVE_SPOTS).map((spot) => ({
      serial: spot.serial,
      online: sources.isOnline(spot.serial),
      firmwareVersion: spot.firmwareVersion,
      lastSeen: spot.lastSeen,
      events: spot.events,
      eventsPerSecond: Math.round(sources.activity.eventsPerSecond(spot.serial) * 10) / 10,
      presences: sources.activity.presences(spot.serial),
    })),
    flashJobs: sources.flashJobs?.() ?? [],
  };
}
