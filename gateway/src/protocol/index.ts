// The protocol package's public API: pure codecs of the spot protocol, no I/O.
export type {
  Encoding,
  SpotEventBody,
  SpotEvent,
  RejectedMessage,
  DecodedItem,
  StreamDecoder,
  StreamEncoder,
} from './types.js';
export { concatBytes } from './bytes.js';
export { topicLevelFault, topicPrefixFault, MAX_TOPIC_LEVEL_BYTES, MAX_TOPIC_PREFIX_BYTES } from './topic-level.js';
export { createJsonDecoder, type JsonDecoderOptions } from './json-decoder.js';
export { encodeJsonEvent, createJsonEncoder } from './json-encoder.js';
export { sniffEncoding, canSniff, JSON_CONTENT_TYPE, PB_CONTENT_TYPE } from './sniff.js';
export { canonicalize } from './canonical.js';
export { eventToFrame, frameToEvent, type FrameDecoding } from './convert.js';
export { createPbDecoder, createPbEncoder, encodeFrame, decodeFrame, type PbDecoderOptions, type DecodedFrame } from './pb-stream.js';
export {
  validateCommand,
  validateConfigValue,
  BRAIN_SENSE_MIN,
  BRAIN_SENSE_MAX,
  type CommandCheck,
  type CommandError,
  type ValueCheck,
} from './commands.js';
