// The spot-server upstream (docs/chaining.md): public API.
export { SpotServerForwarder } from './forwarder.js';
export type { SpotServerOptions, SpotServerSource, SpotServerStatus } from './options.js';
export { Poster, type PosterOptions, type PostAnswer, type PostRequest } from './poster.js';
export { relayCommands, type QueueCommand, type RelayedCommand, type RelayOutcome } from './command-relay.js';
export { bootOf, instanceTag, postBody, sameEncodingPrefix, BOOT_ID_SPAN, INSTANCE_TAGS, type ChainEvent } from './post-body.js';
