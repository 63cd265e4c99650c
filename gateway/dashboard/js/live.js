// The live feed (GET /api/live, server-sent events): the browser reconnects by itself and resumes after the last event id.

/** Opens the feed; onStatus gets each status snapshot, onEvent each committed event, onLink 'live' | 'reconnecting'. */
export function openLive(query, { onStatus, onEvent, onLink }) {
  const source = new EventSource(`/api/live${query ? `?${query}` : ''}`);
  source.addEventListener('open', () => onLink('live'));
  source.addEventListener('error', () => onLink(source.readyState === EventSource.CLOSED ? 'closed' : 'reconnecting'));
  source.addEventListener('status', (m) => onStatus(JSON.parse(m.data)));
  source.addEventListener('event', (m) => onEvent(JSON.parse(m.data)));
  return () => source.close();
}
